// `kiln runs …` end to end: the real CLI as a child process on a store populated through the library.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import { openTracking, type RunRecord, type RunSummary } from '../../src/tracking/index.ts';
import { main } from '../../src/cli/main.ts';
import type { Io } from '../../src/cli/io.ts';
import { newRun } from './helpers.ts';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const bin = path.join(repoRoot, 'bin', 'kiln.js');

function kiln(args: string[], cwd = repoRoot): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '' } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** The same CLI in this process, for the many output details that do not need a process each. */
async function kilnHere(args: string[], opts: { cwd?: string; color?: boolean } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: Io = { out: (s) => (stdout += s), err: (s) => (stderr += s), color: opts.color ?? false, colorErr: false, isTTY: false, cwd: opts.cwd ?? repoRoot };
  const code = await main(['node', 'kiln', ...args], io);
  return { code, stdout, stderr };
}

let project: string;
let empty: string;
// More files than `runs show` lists, so that the bound shows.
const bUncommitted = [
  ...Array.from({ length: 22 }, (_, i) => ({ path: `data/part-${String(i).padStart(2, '0')}.csv`, status: 'untracked' as const, blob: String(i % 10).repeat(40) })),
  { path: 'src/gone.ts', status: 'deleted' as const, blob: null },
  { path: 'src/x.ts', status: 'modified' as const, blob: 'e'.repeat(40) },
];
const ids: Record<string, string> = {};

beforeAll(async () => {
  project = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-cli-'));
  empty = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-cli-empty-'));
  const t = openTracking(path.join(project, '.kiln'));
  const a = await t.runs.createRun(newRun({ params: { seed: 1, split: { test_ratio: 0.2 } } }));
  for (let e = 0; e < 3; e++) await t.runs.logMetrics(a.id, { accuracy: 0.8 + e * 0.05, loss: 0.5 - e * 0.1 }, { step: e });
  const n = await t.runs.startNode(a.id, 'split', { fingerprint: 'f'.repeat(64) });
  await t.runs.finishNode(n, { status: 'FINISHED', cacheHit: true });
  await t.runs.logFile(a.id, 'training-curves.svg', '<svg/>');
  await t.runs.finishRun(a.id, { status: 'FINISHED' });
  const b = await t.runs.createRun(newRun({ params: { seed: 2, split: { test_ratio: 0.2 } }, git: { root: '/r', commit: 'b'.repeat(40), branch: 'feature', dirty: true, uncommitted: bUncommitted, diffHash: 'c'.repeat(64) } }));
  await t.runs.logMetrics(b.id, { accuracy: 0.95 });
  await t.runs.finishRun(b.id, { status: 'FAILED', error: 'boom' });
  const c = await t.runs.createRun(newRun({ pipeline: 'other' }));
  ids.a = a.id;
  ids.b = b.id;
  ids.c = c.id;
  t.close();
});

afterAll(() => {
  fs.rmSync(project, { recursive: true, force: true });
  fs.rmSync(empty, { recursive: true, force: true });
});

describe('kiln runs (child processes)', () => {
  it('list, show, compare and search print JSON; an unknown run is exit 1 with KILN4002', async () => {
    const [list, show, compare, search, unknown] = await Promise.all([
      kiln(['runs', 'list', '--project', project, '--json']),
      kiln(['runs', 'show', ids.a.slice(0, 14), '--project', project, '--json']),
      kiln(['runs', 'compare', ids.a, ids.b, '--project', project, '--json']),
      kiln(['runs', 'search', "metrics.accuracy > 0.85 and params.split.test_ratio = 0.2 and tags.branch = 'main'", '--project', project, '--json']),
      kiln(['runs', 'show', 'zzzzzzzz', '--project', project]),
    ]);
    for (const r of [list, show, compare, search]) expect(r.code, r.stderr).toBe(0);

    expect((JSON.parse(list.stdout) as RunSummary[]).map((r) => r.id)).toEqual([ids.c, ids.b, ids.a]);

    const rec = JSON.parse(show.stdout) as RunRecord;
    expect(rec.id).toBe(ids.a);
    expect(rec.metrics.accuracy).toMatchObject({ value: 0.9, historyLength: 3 });
    expect(rec.nodes[0]).toMatchObject({ node: 'split', cacheHit: true, status: 'FINISHED' });
    expect(rec.files.map((f) => f.name)).toEqual(['training-curves.svg']);
    const showB = JSON.parse((await kilnHere(['runs', 'show', ids.b, '--project', project, '--json'])).stdout) as RunRecord;
    expect(showB.git.uncommitted).toEqual(bUncommitted);

    const cmp = JSON.parse(compare.stdout) as { params: Array<{ key: string; changed: boolean }>; metrics: Array<{ key: string; delta: number | null }> };
    expect(cmp.params).toEqual([
      { key: 'seed', a: 1, b: 2, changed: true },
      { key: 'split.test_ratio', a: 0.2, b: 0.2, changed: false },
    ]);
    expect(cmp.metrics.find((m) => m.key === 'accuracy')!.delta).toBeCloseTo(0.05, 10);
    expect(cmp.metrics.find((m) => m.key === 'loss')!.delta).toBeNull();

    expect((JSON.parse(search.stdout) as RunSummary[]).map((r) => r.id)).toEqual([ids.a]);

    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("error KILN4002: no run matches 'zzzzzzzz'");
  });
});

describe('kiln runs (output)', () => {
  it('prints aligned tables without colour, and with colour only when asked', async () => {
    const [listTable, listStatus, showTable, compareTable, searchTable, colored] = await Promise.all([
      kilnHere(['runs', 'list'], { cwd: project }),
      kilnHere(['runs', 'list', '--project', project, '--json', '--status', 'failed', '--pipeline', 'spam']),
      kilnHere(['runs', 'show', ids.b, '--project', project]),
      kilnHere(['runs', 'compare', ids.a, ids.b, '--project', project]),
      kilnHere(['runs', 'search', "status = 'running'", '--project', project]),
      kilnHere(['runs', 'list', '--project', project], { color: true }),
    ]);
    for (const r of [listTable, listStatus, showTable, compareTable, searchTable, colored]) expect(r.code, r.stderr).toBe(0);

    const lines = listTable.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^RUN\s+PIPELINE\s+STATUS\s+STARTED\s+DURATION\s+COMMIT\s+BRANCH$/);
    expect(lines).toHaveLength(4);
    expect(lines[2]).toContain('bbbbbbb*');
    // Columns line up: every row has its status where the header has STATUS.
    const statusCol = lines[0].indexOf('STATUS');
    expect(lines.slice(1).map((l) => l.slice(statusCol).split(/\s+/)[0])).toEqual(['RUNNING', 'FAILED', 'FINISHED']);
    expect(listTable.stdout).not.toContain('\u001b[');
    expect(colored.stdout).toContain('\u001b[31mFAILED');
    expect(colored.stdout.replace(/\u001b\[\d+m/g, '')).toBe(listTable.stdout);

    expect((JSON.parse(listStatus.stdout) as RunSummary[]).map((r) => r.id)).toEqual([ids.b]);

    expect(showTable.stdout).toContain('error:    boom');
    expect(showTable.stdout).toContain(`git:      ${'b'.repeat(40)} on feature (dirty, 24 uncommitted files`);
    // Each file with its status and git blob id, the first 20 only, and a count of the rest.
    expect(showTable.stdout).toContain(`? ${'0'.repeat(12)}  data/part-00.csv\n`);
    expect(showTable.stdout).toContain(`? ${'9'.repeat(12)}  data/part-19.csv\n`);
    expect(showTable.stdout).not.toContain('data/part-20.csv');
    expect(showTable.stdout).toContain('… and 4 more (--json lists them all)');
    expect(showTable.stdout).toMatch(/Parameters\n\s+KEY\s+VALUE\n\s+seed\s+2\n\s+split\.test_ratio\s+0\.2/);
    expect(showTable.stdout).toMatch(/accuracy\s+0\.95\s+0\s+1/);

    expect(compareTable.stdout).toMatch(/seed\s+1\s+2\s+changed/);
    expect(compareTable.stdout).toMatch(/accuracy\s+0\.9\s+0\.95\s+\+0\.05 \(\+5\.6%\)/);

    expect(searchTable.stdout).toContain('RUNNING');
    expect(searchTable.stdout.trimEnd().split('\n')).toHaveLength(2);
  });

  it('reports unknown runs, bad filters and a project without a store as diagnostics', async () => {
    const unknownJson = await kilnHere(['runs', 'compare', ids.a, '0000000000', '--project', project, '--json']);
    const injection = await kilnHere(['runs', 'search', 'metrics.x > 1; drop table runs', '--project', project, '--json']);
    const noStore = await kilnHere(['runs', 'list', '--project', empty]);
    const noStoreShow = await kilnHere(['runs', 'show', ids.a, '--project', empty]);
    const noStoreSearch = await kilnHere(['runs', 'search', 'metrics.a >', '--project', empty]);
    const badLimit = await kilnHere(['runs', 'list', '--project', project, '--limit', 'lots']);
    expect(unknownJson.code).toBe(1);
    expect(JSON.parse(unknownJson.stdout)).toMatchObject([{ code: 'KILN4002', severity: 'error' }]);
    expect(injection.code).toBe(1);
    const [d] = JSON.parse(injection.stdout) as Array<{ code: string; message: string; detail: string }>;
    expect(d.code).toBe('KILN4005');
    expect(d.detail).toBe('metrics.x > 1; drop table runs\n             ^');
    expect(noStore).toMatchObject({ code: 0, stdout: 'No runs.\n' });
    expect(fs.existsSync(path.join(empty, '.kiln'))).toBe(false);
    expect(noStoreShow.code).toBe(1);
    expect(noStoreShow.stderr).toContain('KILN4002');
    expect(noStoreSearch.code).toBe(1);
    expect(noStoreSearch.stderr).toContain('KILN4005');
    expect(badLimit.code).toBe(2);
    // The store survived the injection attempt.
    const t = openTracking(path.join(project, '.kiln'));
    expect(await t.runs.listRuns()).toHaveLength(3);
    t.close();
  });

  it('get writes a logged file out, verified, where --out says; unknown names and unwritable places are diagnostics', async () => {
    const here = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-cli-get-'));
    try {
      const show = await kilnHere(['runs', 'show', ids.a, '--project', project]);
      expect(show.stdout).toMatch(/Files\n\s+NAME\s+SIZE\s+OBJECT\n\s+training-curves\.svg\s+6 B/);
      expect(show.stdout).toContain(`(kiln runs get ${ids.a} <name> writes one out)`);

      const plain = await kilnHere(['runs', 'get', ids.a.slice(0, 14), 'training-curves.svg', '--project', project], { cwd: here });
      expect(plain).toMatchObject({ code: 0, stdout: 'wrote training-curves.svg\n' });
      expect(fs.readFileSync(path.join(here, 'training-curves.svg'), 'utf8')).toBe('<svg/>');
      fs.mkdirSync(path.join(here, 'images'));
      const intoFolder = await kilnHere(['runs', 'get', ids.a, 'training-curves.svg', '--project', project, '--out', 'images'], { cwd: here });
      expect(intoFolder.code, intoFolder.stderr).toBe(0);
      expect(fs.readFileSync(path.join(here, 'images', 'training-curves.svg'), 'utf8')).toBe('<svg/>');
      const named = await kilnHere(['runs', 'get', ids.a, 'training-curves.svg', '--project', project, '--out', 'curves/a.svg', '--json'], { cwd: here });
      expect(JSON.parse(named.stdout)).toEqual({ file: 'training-curves.svg', path: path.join(here, 'curves', 'a.svg') });

      const typo = await kilnHere(['runs', 'get', ids.a, 'training-curve.svg', '--project', project], { cwd: here });
      expect(typo.code).toBe(1);
      expect(typo.stderr).toContain(`error KILN4030: run ${ids.a} has no file 'training-curve.svg'. Did you mean 'training-curves.svg'?`);
      const none = await kilnHere(['runs', 'get', ids.b, 'x.png', '--project', project, '--json'], { cwd: here });
      expect(JSON.parse(none.stdout)).toMatchObject([{ code: 'KILN4030' }]);
      // A file where a folder is needed: nothing written, exit 1.
      fs.writeFileSync(path.join(here, 'plain.txt'), 'x');
      const blocked = await kilnHere(['runs', 'get', ids.a, 'training-curves.svg', '--project', project, '--out', 'plain.txt/a.svg'], { cwd: here });
      expect(blocked.code).toBe(1);
      expect(blocked.stderr).toContain('KILN4031');
      expect(fs.readFileSync(path.join(here, 'plain.txt'), 'utf8')).toBe('x');
    } finally {
      fs.rmSync(here, { recursive: true, force: true });
    }
  });
});
