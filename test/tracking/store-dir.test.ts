// `kiln runs` and registry references find the store kiln.yaml names, without validating the whole project.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { storeDirOf } from '../../src/config/store-dir.ts';

let dir: string;
afterEach(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

it.each([
  ['name: p\nstore: state\n', 'state'],
  ['name: p\n', '.kiln'],
  ['name: p\nstore: ../outside\n', '.kiln'],
  ['name: p\nstore: /abs\n', '.kiln'],
  ['{{ not yaml', '.kiln'],
])('kiln.yaml %j → %s', (yaml, expected) => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-storedir-'));
  fs.writeFileSync(path.join(dir, 'kiln.yaml'), yaml);
  expect(storeDirOf(dir)).toBe(path.join(dir, expected));
});
