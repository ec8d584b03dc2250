// One run recorded by several OS processes (`kiln run --run-id <key> --task …`, then `--finish`), as the tasks of an
// emitted Argo workflow do. Each process runs in its own copy of the project; the copies share only the store.
// Until the team stores (PostgreSQL run store, OCI object store) are merged, that store is one SQLite store folder
// outside the copies, which each copy's .kiln links to (kiln.yaml's `store:` must lie inside the project, and the
// default .kiln is not checked for links); after the merge these copies will share KILN_STORE and KILN_OBJECTS instead.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { repoRoot, tempDir } from '../helpers/project.ts';
import { warmProject } from '../helpers/warm-project.ts';
import { openTracking } from '../../src/tracking/index.ts';
import type { RunRecord } from '../../src/tracking/store.ts';

const warm = new Map<string, Promise<string>>();

/**
 * A fresh copy of a fixture project whose store is the shared folder `store`. The copies come from a compiled one, and
 * the shared store gets its type-check cache (keyed by content), so that each process runs rather than type-checks.
 */
async function copyWithStore(fixture: string, store: string): Promise<string> {
  if (!warm.has(fixture)) warm.set(fixture, warmProject(fixture));
  const template = await warm.get(fixture)!;
  const root = tempDir('kiln-task-');
  fs.cpSync(template, root, { recursive: true, filter: (s) => path.relative(template, s).split(path.sep)[0] !== '.kiln' });
  fs.cpSync(path.join(template, '.kiln', 'cache'), path.join(store, 'cache'), { recursive: true });
  fs.symlinkSync(store, path.join(root, '.kiln'));
  return root;
}

/** A copy of the same compiled fixture with a store of its own: the one-process run to compare with. */
async function copyAlone(fixture: string): Promise<string> {
  const store = tempDir('kiln-own-store-');
  return copyWithStore(fixture, store);
}

function kiln(cwd: string, args: string[]) {
  return runCli(args, { cwd, env: { KILN_DEBUG: undefined } });
}

/** `kiln <args>` as a child process that runs beside others; resolves with its exit code and stderr. */
function kilnAsync(cwd: string, args: string[]): { done: Promise<{ code: number | null; stderr: string }>; child: ReturnType<typeof spawn> } {
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'kiln.js'), ...args], { cwd, env: { ...process.env, NO_COLOR: '1' } });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdout!.resume();
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
  return { done, child };
}

async function runsOf(store: string): Promise<RunRecord[]> {
  const t = openTracking(store);
  try {
    return await Promise.all((await t.runs.listRuns()).map((r) => t.runs.getRun(r.id)));
  } finally {
    t.close();
  }
}

const metricsOf = (r: RunRecord) => Object.fromEntries(Object.entries(r.metrics).map(([k, m]) => [k, m.value]));

describe('kiln run --run-id: one run, several processes', () => {
  it('tasks in separate copies record one run, which --finish ends FINISHED with the metrics of a one-process run; a second workflow skips every node', async () => {
    const store = tempDir('kiln-shared-store-');
    const [a, b, c] = [await copyWithStore('fanout', store), await copyWithStore('fanout', store), await copyWithStore('fanout', store)];
    // The two branches start together: both find no run under the key, and exactly one may create it.
    const [left, right] = await Promise.all([kilnAsync(a, ['run', 'flow', '--run-id', 'wf-1', '--task', 'left_branch']).done, kilnAsync(b, ['run', 'flow', '--run-id', 'wf-1', '--task', 'right_branch']).done]);
    expect([left.code, right.code], left.stderr + right.stderr).toEqual([0, 0]);
    expect(kiln(c, ['run', 'flow', '--run-id', 'wf-1', '--task', 'combine,summarize']).code).toBe(0);
    let runs = await runsOf(store);
    expect(runs).toHaveLength(1);
    expect(runs[0].status).toBe('RUNNING');
    const fin = kiln(a, ['run', 'flow', '--run-id', 'wf-1', '--finish']);
    expect(fin.code, fin.stderr).toBe(0);
    runs = await runsOf(store);
    expect(runs[0].status).toBe('FINISHED');
    expect(runs[0].nodes.map((n) => `${n.node}:${n.status}`).sort()).toEqual(['combine:FINISHED', 'left_branch:FINISHED', 'right_branch:FINISHED', 'summarize:FINISHED']);

    const alone = await copyAlone('fanout');
    expect(kiln(alone, ['run', 'flow']).code).toBe(0);
    const [single] = await runsOf(fs.realpathSync(path.join(alone, '.kiln')));
    expect(metricsOf(runs[0])).toEqual(metricsOf(single));
    expect(Object.keys(metricsOf(single)).length).toBeGreaterThan(0);

    const d = await copyWithStore('fanout', store);
    for (const task of ['left_branch', 'right_branch', 'combine', 'summarize']) expect(kiln(d, ['run', 'flow', '--run-id', 'wf-2', '--task', task]).code).toBe(0);
    expect(kiln(d, ['run', 'flow', '--run-id', 'wf-2', '--finish']).code).toBe(0);
    const second = (await runsOf(store)).find((r) => r.id !== runs[0].id)!;
    expect(second.status).toBe('FINISHED');
    expect(second.nodes.every((n) => n.cacheHit)).toBe(true);
    expect(metricsOf(second)).toEqual(metricsOf(single));
  }, 60_000);

  it('passes an in-memory value from one process to the next through the object store', async () => {
    const store = tempDir('kiln-shared-store-');
    const [a, b] = [await copyWithStore('mini', store), await copyWithStore('mini', store)];
    expect(kiln(a, ['run', '--run-id', 'wf-m', '--task', 'scale']).code).toBe(0);
    const r = kiln(b, ['run', '--run-id', 'wf-m', '--task', 'summarize']);
    expect(r.code, r.stderr).toBe(0);
    expect(kiln(b, ['run', '--run-id', 'wf-m', '--finish']).code).toBe(0);
    const single = await copyAlone('mini');
    expect(kiln(single, ['run']).code).toBe(0);
    expect(fs.readFileSync(path.join(b, 'data', 'summary.json'), 'utf8')).toBe(fs.readFileSync(path.join(single, 'data', 'summary.json'), 'utf8'));
  }, 30_000);

  it('many tasks starting at once create one run per key', async () => {
    const store = tempDir('kiln-shared-store-');
    const copies = await Promise.all([0, 1, 2, 3].map(() => copyWithStore('fanout', store)));
    await Promise.all(
      ['k1', 'k2'].flatMap((key) => ['left_branch', 'right_branch'].map((task, i) => kilnAsync(copies[(key === 'k1' ? 0 : 2) + i], ['run', 'flow', '--run-id', key, '--task', task]).done.then((r) => expect(r.code, r.stderr).toBe(0)))),
    );
    const runs = await runsOf(store);
    expect(runs).toHaveLength(2);
    for (const r of runs) expect(r.nodes.map((n) => n.node).sort()).toEqual(['left_branch', 'right_branch']);
  }, 60_000);

  it('a failed task leaves the run to --finish, which marks it FAILED with the node and the resume hint', async () => {
    const store = tempDir('kiln-shared-store-');
    const a = await copyWithStore('fanout', store);
    const p = ['--params', 'fault=combine:throw'];
    expect(kiln(a, ['run', 'flow', '--run-id', 'wf-f', '--task', 'left_branch,right_branch', ...p]).code).toBe(0);
    const failed = kiln(a, ['run', 'flow', '--run-id', 'wf-f', '--task', 'combine', ...p]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('KILN3003');
    // Argo's exit handler: the workflow failed, so the run does.
    const fin = kiln(a, ['run', 'flow', '--run-id', 'wf-f', '--finish=Failed', ...p]);
    expect(fin.code).toBe(1);
    expect(fin.stderr).toContain('error KILN7077');
    expect(fin.stderr).toContain("node 'combine' failed");
    expect(fin.stderr).toContain('kiln run flow --params fault=combine:throw --from-nodes "combine"');
    const [run] = await runsOf(store);
    expect(run.status).toBe('FAILED');
    expect(run.error).toContain("node 'combine' failed");
    expect(run.error).toContain('--from-nodes "combine"');
    // Nothing to add to an ended run: a late task is refused, the exit handler has nothing left to do.
    const late = kiln(a, ['run', 'flow', '--run-id', 'wf-f', '--task', 'summarize', ...p]);
    expect(late.code).toBe(1);
    expect(late.stderr).toContain('KILN7073');
    expect(kiln(a, ['run', 'flow', '--run-id', 'wf-f', '--finish=Failed', ...p]).code).toBe(0);
  }, 60_000);

  it('--finish before every node finished fails the run with what is left', async () => {
    const store = tempDir('kiln-shared-store-');
    const a = await copyWithStore('fanout', store);
    expect(kiln(a, ['run', 'flow', '--run-id', 'wf-p', '--task', 'left_branch,right_branch']).code).toBe(0);
    const fin = kiln(a, ['run', 'flow', '--run-id', 'wf-p', '--finish']);
    expect(fin.code).toBe(1);
    expect(fin.stderr).toContain('KILN7077');
    expect(fin.stderr).toContain('2 node(s) did not run');
    expect(fin.stderr).toContain('--from-nodes "combine"');
  }, 30_000);

  it('a task killed mid-way is retried: its dead attempt is closed, finished nodes are not recorded twice, and the run finishes', async () => {
    const store = tempDir('kiln-shared-store-');
    const a = await copyWithStore('fanout', store);
    const p = ['--params', 'delay_ms=4000'];
    const first = kilnAsync(a, ['run', 'flow', '--run-id', 'wf-k', '--task', 'left_branch', ...p]);
    // Killed once the store shows the node RUNNING (the recorder writes that row within 100 ms of the start).
    for (let i = 0; i < 200; i++) {
      const runs = await runsOf(store).catch(() => []);
      if (runs[0]?.nodes.some((n) => n.node === 'left_branch' && n.status === 'RUNNING')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    first.child.kill('SIGKILL');
    await first.done;
    const retry = kiln(a, ['run', 'flow', '--run-id', 'wf-k', '--task', 'left_branch', ...p]);
    expect(retry.code, retry.stderr).toBe(0);
    // A second retry of a task that did finish (its pod died after recording) runs and records nothing.
    const again = kiln(a, ['run', 'flow', '--run-id', 'wf-k', '--task', 'left_branch', ...p]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('left_branch finished in an earlier attempt of this task');
    for (const task of ['right_branch', 'combine', 'summarize']) expect(kiln(a, ['run', 'flow', '--run-id', 'wf-k', '--task', task, ...p]).code).toBe(0);
    expect(kiln(a, ['run', 'flow', '--run-id', 'wf-k', '--finish', ...p]).code).toBe(0);
    const [run] = await runsOf(store);
    expect(run.status).toBe('FINISHED');
    const lefts = run.nodes.filter((n) => n.node === 'left_branch').map((n) => n.status);
    expect(lefts).toEqual(['FAILED', 'FINISHED']);
  }, 60_000);

  it('refuses what cannot be part of a shared run, each with its code', async () => {
    const store = tempDir('kiln-shared-store-');
    const a = await copyWithStore('fanout', store);
    const noKey = kiln(a, ['run', 'flow', '--task', 'combine']);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('error KILN7078: --task needs --run-id');
    const badKey = kiln(a, ['run', 'flow', '--run-id', '{{workflow.uid}}', '--task', 'combine']);
    expect(badKey.code).toBe(1);
    expect(badKey.stderr).toContain('KILN7075');
    expect(badKey.stderr).toContain('not replaced');
    // combine reads what the branches write: their tasks must have finished in this run first.
    const early = kiln(a, ['run', 'flow', '--run-id', 'wf-e', '--task', 'combine']);
    expect(early.code).toBe(1);
    expect(early.stderr).toContain("KILN7076: input 'left' of node 'combine' comes from node 'left_branch'");
    const mini = await copyWithStore('mini', store);
    const other = kiln(mini, ['run', '--run-id', 'wf-e', '--task', 'scale']);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain("KILN7074");
    expect(other.stderr).toContain("is a run of pipeline 'flow', not 'demo'");
  }, 30_000);
});
