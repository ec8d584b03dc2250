// `kiln run` on a full disk, for real: a small tmpfs under the store (KILN4019) or under the data folder (KILN3112).
// Needs permission to mount (root, as in CI); skipped where mounting is refused, with the library tests in
// test/tracking/disk-full.test.ts still covering SQLITE_FULL and the object store there.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTracking } from '../../src/tracking/index.ts';
import { copyProject } from '../helpers/project.ts';
import { warmProject } from '../helpers/warm-project.ts';
import { kiln } from './kiln-process.ts';

const own: string[] = [];
const mounts: string[] = [];
afterAll(() => {
  for (const m of mounts.splice(0)) spawnSync('umount', ['-l', m]);
  for (const d of own.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** Replaces `dir` by a tmpfs of `size` holding what `dir` held; false where mounting is not allowed. */
function onTmpfs(dir: string, size: string): boolean {
  const aside = `${dir}.aside`;
  if (fs.existsSync(dir)) fs.renameSync(dir, aside);
  fs.mkdirSync(dir);
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]).status !== 0) return false;
  mounts.push(dir);
  if (fs.existsSync(aside)) fs.cpSync(aside, dir, { recursive: true });
  return true;
}

const probe = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-mount-probe-'));
const canMount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe]).status === 0;
if (canMount) spawnSync('umount', [probe]);
fs.rmSync(probe, { recursive: true, force: true });

describe.skipIf(!canMount)('kiln run on a full disk', () => {
  let template: string;
  beforeAll(async () => {
    const src = copyProject('mini', 'kiln-full-src-');
    // scale writes a 3 MB file: more than the tmpfs under the store (or the data folder) can take.
    fs.appendFileSync(path.join(src, 'pipelines/catalog.yaml'), 'scaled:\n  type: json\n  path: data/scaled.json\n');
    fs.writeFileSync(
      path.join(src, 'pipelines/demo/nodes.ts'),
      fs.readFileSync(path.join(src, 'pipelines/demo/nodes.ts'), 'utf8').replace('return args.values.map((v) => v * args.factor);', 'return [...args.values.map((v) => v * args.factor), ...Array.from({ length: 200_000 }, (_, i) => i + 0.123456789)];'),
    );
    template = await warmProject(src);
  });

  const project = () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-full-'));
    own.push(root);
    fs.cpSync(template, root, { recursive: true });
    return root;
  };

  it('the store full: KILN4019 naming it, the run recorded FAILED with that cause, no partial object, stale temporaries swept', async () => {
    const root = project();
    expect(onTmpfs(path.join(root, '.kiln'), '2m')).toBe(true);
    // Left by a save that was killed: its process is gone.
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    const stale = path.join(root, 'data', `.scaled.json.kiln-${dead}-abcdef12.tmp`);
    fs.mkdirSync(path.dirname(stale), { recursive: true });
    fs.writeFileSync(stale, 'partial');

    const r = await kiln(['run'], root);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`error KILN4019: no space left for the run store ${path.join(root, '.kiln', 'objects')} while storing an object (`);
    expect(r.stderr).toMatch(/Free at least \d+\.\d MiB on that disk/);
    expect(r.stderr).not.toContain('internal error');
    expect(fs.readdirSync(path.join(root, '.kiln', 'objects', 'tmp'))).toEqual([]);
    expect(fs.existsSync(stale)).toBe(false);
    const t = openTracking(path.join(root, '.kiln'));
    const [run] = await t.runs.listRuns();
    t.close();
    expect(run.status).toBe('FAILED');
    expect(run.error).toMatch(/^no space left for the run store /);
  });

  it('the data folder full: KILN3112 naming the dataset and its path, the previous file untouched', async () => {
    const root = project();
    expect(onTmpfs(path.join(root, 'data'), '1m')).toBe(true);
    fs.writeFileSync(path.join(root, 'data', 'scaled.json'), '[1]');
    const r = await kiln(['run'], root);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/error KILN3112: no space left on the disk of 'data\/scaled\.json' while saving dataset 'scaled' \(\d/);
    expect(fs.readFileSync(path.join(root, 'data', 'scaled.json'), 'utf8')).toBe('[1]');
    expect(fs.readdirSync(path.join(root, 'data')).sort()).toEqual(['numbers.json', 'scaled.json']);
  });
});
