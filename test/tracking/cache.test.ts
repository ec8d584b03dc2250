import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Tracking } from '../../src/tracking/index.ts';
import { newRun, tempDir } from './helpers.ts';
import { storeBackends } from './backends.ts';

/** One run with one finished node whose output `out` is snapshotted (or not). */
async function execute(t: Tracking, node: string, fingerprint: string, output: { sha256: string; object?: string | null }, opts: { status?: 'FINISHED' | 'FAILED'; cacheHit?: boolean } = {}) {
  const run = await t.runs.createRun(newRun());
  const id = await t.runs.startNode(run.id, node, { fingerprint });
  await t.runs.finishNode(id, { status: opts.status ?? 'FINISHED', cacheHit: opts.cacheHit, outputs: { out: output } });
  await t.runs.finishRun(run.id, { status: 'FINISHED' });
  return { runId: run.id, executionId: id };
}

describe.each(storeBackends)('cache lookup on $name', (backend) => {
  it('finds the newest successful execution with the fingerprint whose outputs are all in the object store', async () => {
    const { tracking: t } = await backend.store();
    const o1 = await t.objects.putBytes('v1');
    const o2 = await t.objects.putBytes('v2');
    const first = await execute(t, 'featurize', 'fp', { sha256: o1, object: o1 });
    const second = await execute(t, 'featurize', 'fp', { sha256: o2, object: o2 });
    await execute(t, 'featurize', 'fp', { sha256: o2, object: o2 }, { status: 'FAILED' });
    await execute(t, 'featurize', 'other', { sha256: o2, object: o2 });

    const hit = await t.runs.findCachedExecution('featurize', 'fp');
    expect(hit).toMatchObject({ executionId: second.executionId, runId: second.runId, fingerprint: 'fp', outputs: { out: { sha256: o2, object: o2 } } });
    expect(await t.runs.findCachedExecution('featurize', 'nope')).toBeNull();
    expect(await t.runs.findCachedExecution('train', 'fp')).toBeNull();

    // The newest one's snapshot is gone: the lookup falls back to the older execution, whose object is still there.
    fs.rmSync(path.join(t.objects.location, o2.slice(0, 2), o2.slice(2)));
    expect((await t.runs.findCachedExecution('featurize', 'fp'))?.executionId).toBe(first.executionId);
    // And with no object left there is no hit at all.
    fs.rmSync(path.join(t.objects.location, o1.slice(0, 2), o1.slice(2)));
    expect(await t.runs.findCachedExecution('featurize', 'fp')).toBeNull();
  });

  it('does not offer an execution whose output was never snapshotted', async () => {
    const { tracking: t } = await backend.store();
    await execute(t, 'split', 'fp', { sha256: 'a'.repeat(64) });
    expect(await t.runs.findCachedExecution('split', 'fp')).toBeNull();
  });

  it('does not offer a tree snapshot that lost one of its files', async () => {
    const { tracking: t } = await backend.store();
    const dir = path.join(tempDir(), 'classifier');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'model.json'), '{}');
    fs.writeFileSync(path.join(dir, 'weights.bin'), 'w');
    const { hash } = await t.objects.putPath(dir);
    await execute(t, 'train', 'fp', { sha256: hash, object: hash });
    expect((await t.runs.findCachedExecution('train', 'fp'))?.outputs.out.object).toBe(hash);
    const weights = (await t.objects.readTree(hash))!.find((e) => e.path === 'weights.bin')!;
    fs.rmSync(path.join(t.objects.location, weights.hash.slice(0, 2), weights.hash.slice(2)));
    expect(await t.runs.findCachedExecution('train', 'fp')).toBeNull();
  });

  it('lets an execution that was itself a cache hit serve later lookups', async () => {
    const { tracking: t } = await backend.store();
    const o = await t.objects.putBytes('vocab');
    await execute(t, 'fit_vocabulary', 'fp', { sha256: o, object: o });
    const replay = await execute(t, 'fit_vocabulary', 'fp', { sha256: o, object: o }, { cacheHit: true });
    expect((await t.runs.findCachedExecution('fit_vocabulary', 'fp'))?.executionId).toBe(replay.executionId);
    expect((await t.runs.getRun(replay.runId)).nodes[0].cacheHit).toBe(true);
  });
});
