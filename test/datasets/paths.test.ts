import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveDatasetPath } from '../../src/runtime/paths.ts';
import { createDataset } from '../../src/runtime/datasets/index.ts';
import { codesOf, entry, tempProject } from './helpers.ts';

describe('resolveDatasetPath', () => {
  let root: string;
  let outside: string;
  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), 'kiln-root-'));
    outside = mkdtempSync(path.join(tmpdir(), 'kiln-outside-'));
    mkdirSync(path.join(root, 'data'));
    symlinkSync(outside, path.join(root, 'data', 'escape'));
    symlinkSync(path.join(root, 'data'), path.join(root, 'inner-link'));
    symlinkSync(path.join(outside, 'not-yet.json'), path.join(root, 'data', 'dangling.json'));
    writeFileSync(path.join(outside, 'x.json'), '{}');
    mkdirSync(path.join(outside, 'allowed'));
    symlinkSync(path.join(outside, 'elsewhere'), path.join(outside, 'allowed', 'out'));
  });
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  const refused = async (rel: string, allowed: string[] = []) => codesOf(() => resolveDatasetPath(root, rel, allowed, { dataset: 'ds' }));

  it('resolves plain relative paths from the root, existing or not', () => {
    expect(resolveDatasetPath(root, 'data/raw/x.jsonl', [])).toBe(path.join(root, 'data/raw/x.jsonl'));
    expect(resolveDatasetPath(root, './data/../data/y.json', [])).toBe(path.join(root, 'data/y.json'));
  });

  it('follows links that stay inside the root', () => {
    expect(resolveDatasetPath(root, 'inner-link/z.json', [])).toBe(path.join(root, 'inner-link/z.json'));
  });

  it.each([
    ['../x.json', "leads outside the project root through '..'"],
    ['data/../../x.json', "leads outside the project root through '..'"],
    ['data/escape/x.json', 'through a symbolic link'],
    ['data/escape/new/deeper/file.json', 'through a symbolic link'],
    ['data/dangling.json', 'through a symbolic link'],
    ['.', 'is the project root itself'],
    ['', 'is not a usable path'],
  ])('refuses %s', async (rel, reason) => {
    const r = await refused(rel);
    expect(r.codes).toEqual(['KILN3100']);
    expect(r.messages[0]).toContain(`path '${rel}' of dataset 'ds'`);
    expect(r.messages[0]).toContain(reason);
  });

  it('refuses absolute paths, even inside the root', async () => {
    for (const abs of [path.join(outside, 'x.json'), path.join(root, 'data/x.json')]) {
      const r = await refused(abs);
      expect(r.codes).toEqual(['KILN3100']);
      expect(r.messages[0]).toContain('is absolute and not under an allowed path');
    }
  });

  it('accepts paths under an allowed folder: absolute, through .., or through a link', () => {
    const allowed = [outside];
    expect(resolveDatasetPath(root, path.join(outside, 'x.json'), allowed)).toBe(path.join(outside, 'x.json'));
    const viaDots = path.relative(root, path.join(outside, 'x.json'));
    expect(resolveDatasetPath(root, viaDots, allowed)).toBe(path.join(outside, 'x.json'));
    expect(resolveDatasetPath(root, 'data/escape/x.json', allowed)).toBe(path.join(root, 'data/escape/x.json'));
  });

  it('refuses a link inside an allowed folder that leads out of it', async () => {
    const r = await refused(path.join(outside, 'allowed', 'out', 'f.json'), [path.join(outside, 'allowed')]);
    expect(r.codes).toEqual(['KILN3100']);
  });

  it('is applied when a dataset is created, naming the dataset', async () => {
    const p = tempProject();
    try {
      const r = await codesOf(() => createDataset(entry('raw_emails', 'jsonl', { path: '../../etc/passwd' }), p.env));
      expect(r.codes).toEqual(['KILN3100']);
      expect(r.messages[0]).toBe("path '../../etc/passwd' of dataset 'raw_emails' leads outside the project root through '..'");
      expect(r.hints[0]).toContain('paths.allow');
    } finally {
      p.cleanup();
    }
  });
});
