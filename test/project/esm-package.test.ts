// A kiln project must be an ES module package: generated code and node code run as ES modules.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { analyzeProject } from '../../src/project.ts';
import { copyFixture } from '../artifact/support.ts';

let dir: string;
afterEach(async () => {
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

it('refuses a project without "type": "module" (KILN1015), naming the package.json', async () => {
  dir = await copyFixture('mini');
  await fs.writeFile(path.join(dir, 'package.json'), '{ "private": true }\n');
  const a = await analyzeProject(dir);
  const d = a.diagnostics.find((x) => x.code === 'KILN1015');
  expect(d?.message).toBe(`the project is not an ES module package: ${path.join(dir, 'package.json')} does not say "type": "module"`);
  expect(d?.location?.file).toBe('kiln.yaml');
  expect(a.ok).toBe(false);
});

it('accepts the same project once package.json says "type": "module"', async () => {
  dir = await copyFixture('mini');
  const a = await analyzeProject(dir);
  expect(a.diagnostics.filter((x) => x.severity === 'error')).toEqual([]);
});
