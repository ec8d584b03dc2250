// Tracking writes per batch: snapshots staged and synced together, ended nodes recorded together. What a batch must
// keep: a record never points at a staged object, a node running longer than a batch has its RUNNING row, and
// everything is written by the end of the run.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LocalObjectStore } from '../../src/tracking/objects.ts';
import { FLUSH_MS, RunRecorder } from '../../src/tracking/recorder.ts';
import type { NodeExecution } from '../../src/runtime/hooks.ts';
import type { RunInfo } from '../../src/runtime/hooks.ts';
import { newRun } from './helpers.ts';
import { storeBackends } from './backends.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fp = (c: string) => c.repeat(64);

describe.each(storeBackends)('staged objects on $name', (backend) => {
  it('are readable by their store at once, and placed only by sync: small ones together in one pack', async () => {
    const { tracking: t, storeDir } = await backend.store();
    const objects = t.objects as LocalObjectStore;
    const hash = await objects.putBytes('a snapshot', { deferSync: true });
    const other = await objects.putBytes('another snapshot', { deferSync: true });
    expect(objects.placedIn(hash), 'not placed before sync').toBeNull();
    // Held for the batch's pack: no file per object.
    const objectsDir = path.join(storeDir, 'objects');
    expect(fs.existsSync(objectsDir) ? fs.readdirSync(objectsDir) : []).toEqual([]);
    expect((await objects.getBytes(hash)).toString()).toBe('a snapshot');
    expect(await objects.hasComplete(hash)).toBe(true);
    // The same bytes staged again are the same staged object.
    expect(await objects.putBytes('a snapshot', { deferSync: true })).toBe(hash);

    await objects.sync();
    const packs = path.join(storeDir, 'objects', 'packs');
    const names = fs.readdirSync(packs).sort();
    expect(names.map((n) => path.extname(n))).toEqual(['.idx', '.pack']);
    expect(objects.placedIn(hash)).toBe(path.join(packs, names[1]));
    expect(objects.placedIn(other)).toBe(path.join(packs, names[1]));
    expect(fs.readFileSync(path.join(packs, names[1]), 'utf8')).toBe('a snapshotanother snapshot');
    expect(fs.readdirSync(path.join(storeDir, 'objects', 'tmp'))).toEqual([]);
    expect(fs.existsSync(objects.objectPath(hash)), 'no loose copy').toBe(false);
    expect((await objects.getBytes(other)).toString()).toBe('another snapshot');
  });

  it('a durable write of bytes that are staged places them first (a durable record must not point at a staged object)', async () => {
    const { tracking: t } = await backend.store();
    const objects = t.objects as LocalObjectStore;
    const hash = await objects.putBytes('shared', { deferSync: true });
    expect(await objects.putBytes('shared')).toBe(hash);
    expect(objects.placedIn(hash)).not.toBeNull();
  });

  it('recordNodes syncs the snapshots its records point at, then writes every node in one go', async () => {
    const { tracking: t } = await backend.store();
    const objects = t.objects as LocalObjectStore;
    const run = await t.runs.createRun(newRun());
    const a = await objects.putBytes('output of a', { deferSync: true });
    const b = await objects.putBytes('output of b', { deferSync: true });
    const ids = await t.runs.recordNodes(run.id, [
      { node: 'a', start: { fingerprint: fp('1'), startTime: 1000 }, finish: { status: 'FINISHED', outputs: { x: { sha256: a, object: a } }, endTime: 1005 } },
      { node: 'b', start: { fingerprint: fp('2'), startTime: 1005, inputs: { x: a } }, finish: { status: 'FINISHED', cacheHit: true, outputs: { y: { sha256: b, object: b } }, endTime: 1006 } },
    ]);
    expect(ids).toHaveLength(2);
    for (const h of [a, b]) expect(objects.placedIn(h)).not.toBeNull();
    const rec = await t.runs.getRun(run.id);
    expect(rec.nodes.map((n) => [n.node, n.status, n.cacheHit, n.startTime, n.endTime])).toEqual([
      ['a', 'FINISHED', false, 1000, 1005],
      ['b', 'FINISHED', true, 1005, 1006],
    ]);
    expect(rec.nodes[1].inputs).toEqual({ x: a });
    expect(await t.runs.findCachedExecution('b', fp('2'))).toMatchObject({ outputs: { y: { object: b } } });
  });
});

describe.each(storeBackends)('the run recorder on $name', (backend) => {
  const runInfo: RunInfo = { runId: 'r', pipeline: 'p', projectRoot: '/p', nodes: [], params: {}, command: [], backend: null };
  const ended = (node: string, object: string): NodeExecution => ({ node, status: 'done', startedAt: 1, endedAt: 2, fingerprint: fp('3'), cacheHit: false, inputs: {}, outputs: { out: object }, snapshots: { out: object } });

  it(`writes ended nodes together, at most ${FLUSH_MS} ms late; a node running longer gets its RUNNING row; the end writes the rest`, async () => {
    const { tracking: t } = await backend.store();
    const recorder = await RunRecorder.start(t.runs, { pipeline: 'spam', command: ['kiln', 'run'], git: null, versions: { kiln: '0', node: process.version, tfjs: null }, backend: null, params: {} });
    const nodes = async () => (await t.runs.getRun(recorder.runId)).nodes.map((n) => [n.node, n.status]);
    for (const node of ['a', 'b', 'c']) {
      const object = await t.objects.putBytes(`output of ${node}`, { deferSync: true });
      await recorder.hooks.beforeNodeRun!({ run: runInfo, node, inputs: {}, fingerprint: fp('3') });
      await recorder.hooks.afterNodeRun!({ run: runInfo, node, inputs: {}, outputs: {}, durationMs: 1, cached: false, execution: ended(node, object) });
    }
    expect(await nodes(), 'one transaction for the batch, not one per node').toEqual([]);

    await recorder.hooks.beforeNodeRun!({ run: runInfo, node: 'slow', inputs: {}, fingerprint: fp('4') });
    await sleep(FLUSH_MS * 3);
    expect(await nodes()).toEqual([
      ['a', 'FINISHED'],
      ['b', 'FINISHED'],
      ['c', 'FINISHED'],
      ['slow', 'RUNNING'],
    ]);
    const object = await t.objects.putBytes('output of slow', { deferSync: true });
    await recorder.hooks.afterNodeRun!({ run: runInfo, node: 'slow', inputs: {}, outputs: {}, durationMs: 1, cached: false, execution: ended('slow', object) });
    const last = await t.objects.putBytes('output of last', { deferSync: true });
    await recorder.hooks.afterNodeRun!({ run: runInfo, node: 'last', inputs: {}, outputs: {}, durationMs: 1, cached: false, execution: ended('last', last) });
    expect(await recorder.end('FINISHED')).toEqual([]);
    const rec = await t.runs.getRun(recorder.runId);
    expect(rec.status).toBe('FINISHED');
    expect(rec.nodes.map((n) => [n.node, n.status])).toEqual([
      ['a', 'FINISHED'],
      ['b', 'FINISHED'],
      ['c', 'FINISHED'],
      ['slow', 'FINISHED'],
      ['last', 'FINISHED'],
    ]);
    expect((t.objects as LocalObjectStore).placedIn(last)).not.toBeNull();
  });
});
