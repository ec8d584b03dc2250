// Several kiln processes on one store at once, and one killed in the middle of its run.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openTracking } from '../../src/tracking/index.ts';
import { processLiveness, currentProcess } from '../../src/tracking/liveness.ts';
import { newRun, tempDir, tempStore, track } from './helpers.ts';

const child = fileURLToPath(new URL('./child-run.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

function start(args: string[]): { proc: ChildProcess; out: () => string; err: () => string; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    proc.on('error', reject);
    proc.on('exit', (code, signal) => resolve({ code, signal }));
  });
  return { proc, out: () => out, err: () => err, exited };
}

async function until(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('several processes on one store', () => {
  it('eight processes started at once each write a complete run, with no "database is locked"', async () => {
    const dir = tempDir();
    const storeDir = path.join(dir, '.kiln');
    const go = path.join(dir, 'go');
    const children = Array.from({ length: 8 }, (_, i) => start(['complete', storeDir, go, String(i)]));
    // Release them together once all have loaded, so that they also race to create and migrate the fresh store.
    await until(() => children.every((c) => c.out().includes('ready\n')), 'all children to load');
    fs.writeFileSync(go, '');
    const results = await Promise.all(children.map((c) => c.exited));
    for (const [i, r] of results.entries()) expect(r, `child ${i}: ${children[i].err()}`).toEqual({ code: 0, signal: null });
    for (const c of children) expect(c.err()).not.toMatch(/locked|busy/i);

    const reports = children.map((c) => JSON.parse(c.out().split('\n').filter(Boolean).pop()!) as { runId: string; version: number });
    expect(reports.map((r) => r.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);

    const t = track(openTracking(storeDir));
    const runs = await t.runs.listRuns();
    expect(runs).toHaveLength(8);
    expect(new Set(runs.map((r) => r.id))).toEqual(new Set(reports.map((r) => r.runId)));
    for (const r of runs) {
      const rec = await t.runs.getRun(r.id);
      expect(rec.status).toBe('FINISHED');
      expect(rec.metrics.loss).toMatchObject({ step: 9, historyLength: 10 });
      expect(rec.params.worker).toBe(rec.metrics.worker.value);
      expect(rec.nodes).toHaveLength(1);
      expect(rec.files.map((f) => f.name)).toEqual(['curves.svg']);
    }
    expect(t.runs.database.db.pragma('integrity_check', { simple: true })).toBe('ok');
  });

  it('a process SIGKILLed mid-run leaves an intact store, and its run is marked KILLED on the next open', async () => {
    const dir = tempDir();
    const storeDir = path.join(dir, '.kiln');
    const c = start(['hang', storeDir]);
    await until(() => /running (\w+)\n/.test(c.out()) || c.proc.exitCode !== null, 'the child to start its run');
    const runId = /running (\w+)\n/.exec(c.out())?.[1];
    expect(runId, c.err()).toBeDefined();
    // Let it write a little longer so that the kill most likely lands inside a transaction.
    await new Promise((r) => setTimeout(r, 150));
    c.proc.kill('SIGKILL');
    expect((await c.exited).signal).toBe('SIGKILL');

    const t = track(openTracking(storeDir));
    expect(t.reaped).toEqual([runId]);
    const rec = await t.runs.getRun(runId!);
    expect(rec.status).toBe('KILLED');
    expect(rec.error).toContain('ended without finishing');
    expect(rec.endTime).toBeGreaterThanOrEqual(rec.startTime);
    expect(rec.nodes.map((n) => n.status)).toEqual(['KILLED']);
    expect(rec.metrics.loss.historyLength).toBeGreaterThan(50);
    expect(rec.metrics.loss.historyLength).toBe(rec.metrics.accuracy.historyLength);
    expect(t.runs.database.db.pragma('integrity_check', { simple: true })).toBe('ok');
    // The store is usable as before.
    const next = await t.runs.createRun(newRun());
    await t.runs.finishRun(next.id, { status: 'FINISHED' });
    t.close();
    const db = new Database(path.join(storeDir, 'kiln.db'), { readonly: true });
    expect(db.prepare("SELECT count(*) AS n FROM runs WHERE status = 'RUNNING'").get()).toEqual({ n: 0 });
    db.close();
  });
});

describe('liveness of the process that started a run', () => {
  it('tells a live process, a dead pid, a reused pid and another host apart', () => {
    const me = currentProcess();
    expect(processLiveness(me)).toBe('alive');
    expect(processLiveness({ ...me, hostname: `${os.hostname()}-elsewhere` })).toBe('unknown');
    if (me.start !== null) {
      // Same pid, another start time: the pid now belongs to a different process.
      const [boot, ticks] = me.start.split(':');
      expect(processLiveness({ ...me, start: `${boot}:${Number(ticks) + 1}` })).toBe('gone');
      expect(processLiveness({ ...me, start: `another-boot:${ticks}` })).toBe('gone');
    }
    expect(processLiveness({ ...me, pid: 2 ** 22 + 12345 })).toBe('gone');
  });

  it('reaps a RUNNING run whose pid was reused by another process, but not one that is still alive', async () => {
    const { tracking, storeDir } = tempStore();
    const alive = await tracking.runs.createRun(newRun());
    const reused = await tracking.runs.createRun(newRun());
    const me = currentProcess();
    if (me.start === null) return; // no /proc: start tokens are not available on this platform
    tracking.runs.database.db.prepare('UPDATE runs SET process_start = ? WHERE id = ?').run(`${me.start.split(':')[0]}:1`, reused.id);
    const again = track(openTracking(storeDir));
    expect(again.reaped).toEqual([reused.id]);
    expect((await again.runs.getRun(alive.id)).status).toBe('RUNNING');
    expect((await again.runs.getRun(reused.id)).status).toBe('KILLED');
  });
});
