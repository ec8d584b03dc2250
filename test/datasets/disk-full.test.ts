// A dataset saved to a full disk (a small tmpfs, where this process may mount one): KILN3112 naming the dataset and its
// path, and the previous content untouched, for a plain file, a metrics file and a JSON Lines stream.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDataset } from '../../src/runtime/datasets/index.ts';
import { codesOf, entry, tempProject, type TestProject } from './helpers.ts';

const p: TestProject = tempProject();
const data = path.join(p.root, 'data');
fs.mkdirSync(data);
const canMount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', data]).status === 0;
afterAll(() => {
  if (canMount) spawnSync('umount', ['-l', data]);
  p.cleanup();
});

describe.skipIf(!canMount)('saving to a full disk', () => {
  const big = Array.from({ length: 100_000 }, (_, i) => i + 0.5);

  it.each([
    ['json', 'data/big.json', (ds: ReturnType<typeof createDataset>) => ds.save(big)],
    ['jsonl', 'data/big.jsonl', (ds: ReturnType<typeof createDataset>) => ds.save(big.map((x) => ({ x })))],
  ] as const)('%s: KILN3112, and the file keeps what it had', async (type, rel, save) => {
    fs.writeFileSync(path.join(p.root, rel), type === 'json' ? '[1]' : '{"x":1}\n');
    const ds = createDataset(entry('big', type, { path: rel }), p.env);
    const r = await codesOf(() => save(ds));
    expect(r.codes).toEqual(['KILN3112']);
    expect(r.messages[0]).toMatch(new RegExp(`^no space left on the disk of '${rel.replace('.', '\\.')}' while saving dataset 'big' \\(\\d+(\\.\\d)? (B|KiB) free\\)$`));
    expect(fs.readFileSync(path.join(p.root, rel), 'utf8')).toBe(type === 'json' ? '[1]' : '{"x":1}\n');
    expect(fs.readdirSync(data).filter((n) => n.startsWith('.'))).toEqual([]);
    fs.rmSync(path.join(p.root, rel));
  });

  it('metrics: KILN3112 too, and nothing recorded', async () => {
    fs.writeFileSync(path.join(data, 'ballast'), Buffer.alloc(250 * 1024));
    const ds = createDataset(entry('quality', 'metrics', { path: 'data/quality.json' }), p.env);
    expect((await codesOf(() => ds.save(Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`m${i}`, i]))))).codes).toEqual(['KILN3112']);
    expect(p.env.recorded).toEqual([]);
    fs.rmSync(path.join(data, 'ballast'));
  });
});
