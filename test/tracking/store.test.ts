import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openTracking } from '../../src/tracking/index.ts';
import { runIdTime, newRunId } from '../../src/tracking/ids.ts';
import { codesOf, diagnosticOf, newRun, tempDir, tempStore, track } from './helpers.ts';
import { storeBackends } from './backends.ts';

describe.each(storeBackends)('run store on $name', (backend) => {
  it('creates a run with its stamp, versions and process, and reads it back', async () => {
    const { tracking } = await backend.store();
    const before = Date.now();
    const run = await tracking.runs.createRun(
      newRun({
        git: { root: '/r', commit: 'c'.repeat(40), branch: 'feature', dirty: true, uncommitted: [{ path: 'a.ts', status: 'modified', blob: 'e'.repeat(40) }], diffHash: 'd'.repeat(64) },
        params: { split: { test_ratio: 0.2 }, seed: 1 },
        tags: { owner: 'ana' },
      }),
    );
    expect(run.status).toBe('RUNNING');
    expect(run.id).toMatch(/^[0-9a-z]{26}$/);
    expect(runIdTime(run.id)).toBe(run.startTime);
    expect(run.startTime).toBeGreaterThanOrEqual(before);
    const rec = await tracking.runs.getRun(run.id);
    expect(rec.git).toEqual({ commit: 'c'.repeat(40), branch: 'feature', dirty: true, diffHash: 'd'.repeat(64), uncommitted: [{ path: 'a.ts', status: 'modified', blob: 'e'.repeat(40) }] });
    expect(rec.params).toEqual({ 'split.test_ratio': 0.2, seed: 1 });
    expect(rec.tags).toEqual({ owner: 'ana' });
    expect(rec.versions).toEqual({ kiln: '0.1.0', node: process.version, tfjs: '4.22.0' });
    expect(rec.host.pid).toBe(process.pid);
    expect(rec.command).toEqual(['kiln', 'run', 'spam']);
  });

  it('keeps parameters write-once: the same value again is fine, another value is KILN4004', async () => {
    const { tracking } = await backend.store();
    const run = await tracking.runs.createRun(newRun({ params: { split: { test_ratio: 0.2 } } }));
    await tracking.runs.logParams(run.id, { 'split.test_ratio': 0.2, lr: 0.01 });
    const d = await diagnosticOf(() => tracking.runs.logParams(run.id, { features: { size: 100 }, split: { test_ratio: 0.3 } }));
    expect(d.code).toBe('KILN4004');
    expect(d.message).toContain("'split.test_ratio'");
    expect(d.message).toContain('0.3');
    // The failed call is one transaction: features.size was not recorded either.
    expect((await tracking.runs.getRun(run.id)).params).toEqual({ 'split.test_ratio': 0.2, lr: 0.01 });
  });

  it('rejects parameters that are not JSON (KILN4011)', async () => {
    const { tracking } = await backend.store();
    const run = await tracking.runs.createRun(newRun());
    expect(await codesOf(() => tracking.runs.logParams(run.id, { lr: Number.POSITIVE_INFINITY }))).toEqual(['KILN4011']);
    expect(await codesOf(() => tracking.runs.logParams(run.id, { f: () => 1 }))).toEqual(['KILN4011']);
    expect(await codesOf(() => tracking.runs.logMetrics(run.id, { '': 1 }))).toEqual(['KILN4011']);
    expect(await codesOf(() => tracking.runs.logMetrics(run.id, { loss: '1' as unknown as number }))).toEqual(['KILN4011']);
    expect(await codesOf(() => tracking.runs.logMetrics(run.id, { loss: 1 }, { step: 1.5 }))).toEqual(['KILN4011']);
    expect(await codesOf(() => tracking.runs.setTag(run.id, 'branch', 'x'))).toEqual(['KILN4011']);
    expect(await codesOf(() => tracking.runs.logFile(run.id, '../escape.txt', 'x'))).toEqual(['KILN4011']);
    expect(await codesOf(() => tracking.runs.listRuns({ status: 'DONE' as never }))).toEqual(['KILN4011']);
  });

  it('keeps metric history and the latest value per key (highest step, then newest)', async () => {
    const { tracking } = await backend.store();
    const run = await tracking.runs.createRun(newRun());
    for (let epoch = 0; epoch < 5; epoch++) await tracking.runs.logMetrics(run.id, { loss: 1 / (epoch + 1), accuracy: epoch / 10 }, { step: epoch, timestamp: 1000 + epoch });
    // A late write of an earlier step does not become the latest.
    await tracking.runs.logMetrics(run.id, { loss: 42 }, { step: 2, timestamp: 2000 });
    await tracking.runs.logMetrics(run.id, { diverged: Number.NaN });
    const rec = await tracking.runs.getRun(run.id);
    expect(rec.metrics.loss).toEqual({ value: 0.2, step: 4, timestamp: 1004, historyLength: 6 });
    expect(rec.metrics.accuracy.value).toBe(0.4);
    expect(rec.metrics.diverged.value).toBeNaN();
    const history = await tracking.runs.metricHistory(run.id, 'loss');
    expect(history.map((p) => p.step)).toEqual([0, 1, 2, 2, 3, 4]);
    expect(history[3].value).toBe(42);
  });

  it('keeps every point of metric calls made at once (as the recorder makes them); a call for an ended run fails alone', async () => {
    const { tracking } = await backend.store();
    const run = await tracking.runs.createRun(newRun());
    const ended = await tracking.runs.createRun(newRun());
    await tracking.runs.finishRun(ended.id, { status: 'FINISHED' });
    const calls = Array.from({ length: 200 }, (_, i) => tracking.runs.logMetrics(run.id, { loss: i, [`k${i % 3}`]: i }, { step: 199 - i, timestamp: 5000 + (i % 7) }));
    const refused = codesOf(() => tracking.runs.logMetrics(ended.id, { loss: 1 }));
    await Promise.all(calls);
    expect(await refused).toEqual(['KILN4010']);
    const rec = await tracking.runs.getRun(run.id);
    // The highest step wins, whatever order the calls were written in.
    expect(rec.metrics.loss).toEqual({ value: 0, step: 199, timestamp: 5000, historyLength: 200 });
    expect(rec.metrics.k1).toMatchObject({ value: 1, step: 198 });
    expect((await tracking.runs.metricHistory(run.id, 'loss')).map((p) => p.step)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect((await tracking.runs.getRun(ended.id)).metrics).toEqual({});
  });

  it('records node executions with dataset hashes, files, and ends the run', async () => {
    const { tracking } = await backend.store();
    const run = await tracking.runs.createRun(newRun());
    const h = (c: string) => c.repeat(64);
    const split = await tracking.runs.startNode(run.id, 'split', { fingerprint: 'fp-split', inputs: { raw_emails: h('1') } });
    await tracking.runs.finishNode(split, { status: 'FINISHED', outputs: { train: { sha256: h('2') }, test: { sha256: h('3'), object: null } } });
    const train = await tracking.runs.startNode(run.id, 'train', { fingerprint: 'fp-train' });
    await tracking.runs.finishNode(train, { status: 'FAILED', error: 'out of memory', inputs: { train: h('2') } });
    const file = await tracking.runs.logFile(run.id, 'training-curves.svg', '<svg>1</svg>');
    await tracking.runs.logFile(run.id, 'training-curves.svg', '<svg>2</svg>');
    await tracking.runs.finishRun(run.id, { status: 'FAILED', error: 'node train failed' });

    const rec = await tracking.runs.getRun(run.id);
    expect(rec.status).toBe('FAILED');
    expect(rec.error).toBe('node train failed');
    expect(rec.endTime).not.toBeNull();
    expect(rec.nodes.map((n) => [n.node, n.status, n.fingerprint, n.cacheHit])).toEqual([
      ['split', 'FINISHED', 'fp-split', false],
      ['train', 'FAILED', 'fp-train', false],
    ]);
    expect(rec.nodes[0].inputs).toEqual({ raw_emails: h('1') });
    expect(rec.nodes[0].outputs).toEqual({ test: { sha256: h('3'), object: null }, train: { sha256: h('2'), object: null } });
    expect(rec.nodes[1].error).toBe('out of memory');
    expect(rec.files).toHaveLength(1);
    expect(rec.files[0].object).not.toBe(file.object);
    expect((await tracking.objects.getBytes(rec.files[0].object)).toString()).toBe('<svg>2</svg>');
  });

  it('never records a run FINISHED when one of its nodes failed or never ended: it is FAILED, naming them', async () => {
    const { tracking } = await backend.store();
    const finish = async (nodes: Array<[string, 'FINISHED' | 'FAILED' | null]>) => {
      const run = await tracking.runs.createRun(newRun());
      for (const [node, status] of nodes) {
        const id = await tracking.runs.startNode(run.id, node, { fingerprint: `fp-${node}` });
        if (status) await tracking.runs.finishNode(id, { status });
      }
      await tracking.runs.finishRun(run.id, { status: 'FINISHED' });
      return tracking.runs.getRun(run.id);
    };
    const failed = await finish([['split', 'FINISHED'], ['load', 'FAILED']]);
    expect([failed.status, failed.error]).toEqual(['FAILED', "node 'load' failed"]);
    const hanging = await finish([['split', 'FINISHED'], ['train', null]]);
    expect([hanging.status, hanging.error]).toEqual(['FAILED', "node 'train' did not end"]);
    expect(hanging.nodes.map((n) => n.status)).toEqual(['FINISHED', 'FAILED']);
    const fine = await finish([['split', 'FINISHED']]);
    expect([fine.status, fine.error]).toEqual(['FINISHED', null]);
  });

  it('refuses to write to a run that is no longer RUNNING (KILN4010)', async () => {
    const { tracking } = await backend.store();
    const run = await tracking.runs.createRun(newRun());
    const node = await tracking.runs.startNode(run.id, 'split', { fingerprint: null });
    await tracking.runs.finishRun(run.id, { status: 'KILLED' });
    expect((await tracking.runs.getRun(run.id)).nodes[0].status).toBe('KILLED');
    expect(await codesOf(() => tracking.runs.logMetrics(run.id, { a: 1 }))).toEqual(['KILN4010']);
    expect(await codesOf(() => tracking.runs.logParams(run.id, { a: 1 }))).toEqual(['KILN4010']);
    expect(await codesOf(() => tracking.runs.finishRun(run.id, { status: 'FINISHED' }))).toEqual(['KILN4010']);
    expect(await codesOf(() => tracking.runs.finishNode(node, { status: 'FINISHED' }))).toEqual(['KILN4010']);
    // Tags annotate and may be added later.
    await tracking.runs.setTag(run.id, 'reviewed', 'yes');
    expect((await tracking.runs.getRun(run.id)).tags).toEqual({ reviewed: 'yes' });
  });

  it('finds runs by unique prefix (KILN4002 for none, KILN4003 for several)', async () => {
    const { tracking } = await backend.store();
    const t = Date.now();
    const a = await tracking.runs.createRun(newRun({ startTime: t }));
    const b = await tracking.runs.createRun(newRun({ startTime: t }));
    expect(a.id < b.id).toBe(true);
    expect(a.id.slice(0, 10)).toBe(b.id.slice(0, 10));
    const short = await tracking.runs.shortIds([a.id, b.id]);
    expect(await tracking.runs.resolveRunId(short.get(a.id)!)).toBe(a.id);
    expect(await tracking.runs.resolveRunId(short.get(b.id)!.toUpperCase())).toBe(b.id);
    expect(short.get(a.id)!.length).toBeGreaterThan(10);
    const ambiguous = await diagnosticOf(() => tracking.runs.getRun(a.id.slice(0, 10)));
    expect(ambiguous.code).toBe('KILN4003');
    expect(ambiguous.message).toContain('2 runs');
    expect(await codesOf(() => tracking.runs.getRun('zzzzzzzz'))).toEqual(['KILN4002']);
    expect(await codesOf(() => tracking.runs.getRun('not-an-id!'))).toEqual(['KILN4002']);
    expect(await codesOf(() => tracking.runs.getRun(newRunId()))).toEqual(['KILN4002']);
  });

  it('lists newest first with filters, and finds the latest finished run at a commit', async () => {
    const { tracking } = await backend.store();
    const c1 = '1'.repeat(40);
    const c2 = '2'.repeat(40);
    const mk = async (pipeline: string, commit: string, status: 'FINISHED' | 'FAILED' | null, dirty = false) => {
      const r = await tracking.runs.createRun(newRun({ pipeline, git: { root: '/r', commit, branch: 'main', dirty, uncommitted: [], diffHash: null } }));
      if (status) await tracking.runs.finishRun(r.id, { status });
      return r.id;
    };
    const r1 = await mk('spam', c1, 'FINISHED');
    const r2 = await mk('spam', c1, 'FAILED');
    const r3 = await mk('spam', c1, 'FINISHED', true);
    const r4 = await mk('other', c1, 'FINISHED');
    const r5 = await mk('spam', c2, null);
    expect((await tracking.runs.listRuns()).map((r) => r.id)).toEqual([r5, r4, r3, r2, r1]);
    expect((await tracking.runs.listRuns({ pipeline: 'spam', status: 'FINISHED' })).map((r) => r.id)).toEqual([r3, r1]);
    expect((await tracking.runs.listRuns({ limit: 2 })).map((r) => r.id)).toEqual([r5, r4]);
    expect((await tracking.runs.latestFinishedRun('spam', c1))?.id).toBe(r3);
    expect((await tracking.runs.latestFinishedRun('spam', c1, { clean: true }))?.id).toBe(r1);
    expect(await tracking.runs.latestFinishedRun('spam', c2)).toBeNull();
  });

});

describe('run store on SQLite', () => {
  it('keeps its database in <store>/kiln.db, in WAL mode', async () => {
    const { tracking, storeDir } = tempStore();
    await tracking.runs.createRun(newRun());
    expect(fs.existsSync(path.join(storeDir, 'kiln.db'))).toBe(true);
    const db = new Database(path.join(storeDir, 'kiln.db'), { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('reports a store held by another writer as KILN4008, and works once it is released', async () => {
    const { tracking, storeDir } = tempStore({ busyTimeoutMs: 100, attempts: 2 });
    const other = new Database(path.join(storeDir, 'kiln.db'));
    other.exec('BEGIN IMMEDIATE');
    const started = Date.now();
    expect(await codesOf(() => tracking.runs.createRun(newRun()))).toEqual(['KILN4008']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    other.exec('ROLLBACK');
    other.close();
    expect((await tracking.runs.createRun(newRun())).status).toBe('RUNNING');
  });

  it('reports a file that is not a run store as KILN4009', async () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, '.kiln'));
    fs.writeFileSync(path.join(dir, '.kiln', 'kiln.db'), 'this is not a database, just some text long enough to fill a header page...'.repeat(20));
    const d = await diagnosticOf(() => track(openTracking(path.join(dir, '.kiln'))));
    expect(d.code).toBe('KILN4009');
    expect(d.message).toContain('kiln.db');
  });
});
