// `kiln gc` on a store: what listed runs reference stays (outputs, trees and their files, logged files, registered
// versions' runs), the rest goes once it is older than the grace cutoff; runs delete refuses RUNNING and registered runs.
import { buildingFolder } from '../../src/artifact/building.ts';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectGarbage, GC_GRACE_MS } from '../../src/tracking/gc.ts';
import { deleteRun } from '../../src/tracking/delete-run.ts';
import { NODE_LOG_OUTPUT } from '../../src/tracking/recorder.ts';
import type { LocalObjectStore, Tracking } from '../../src/tracking/index.ts';
import { codesOf, newRun, tempDir, tempStore } from './helpers.ts';

const HOUR = 3_600_000;

/** A finished run whose node wrote `content` (a file object) and a folder (a tree), with a node log listing a logged file. */
async function finishedRun(t: Tracking, content: string, startTime = Date.now()) {
  const run = await t.runs.createRun(newRun({ startTime }));
  const file = await t.objects.putBytes(content);
  const folder = tempDir();
  fs.writeFileSync(path.join(folder, 'part-1.txt'), `${content} part`);
  const tree = await t.objects.putTree(folder);
  const [part] = (await t.objects.readTree(tree))!;
  const logged = await t.objects.putBytes(`<svg>${content}</svg>`);
  const log = await t.objects.putBytes(JSON.stringify({ metrics: [], files: [{ name: 'curve.svg', object: logged }] }));
  const exec = await t.runs.startNode(run.id, 'train', { fingerprint: `fp-${content}` });
  await t.runs.finishNode(exec, { status: 'FINISHED', outputs: { model: { sha256: file, object: file }, parts: { sha256: tree, object: tree }, [NODE_LOG_OUTPUT]: { sha256: log, object: log } } });
  const report = await t.runs.logFile(run.id, 'report.txt', `report ${content}`);
  await t.runs.finishRun(run.id, { status: 'FINISHED' });
  return { id: run.id, objects: [file, tree, part.hash, logged, log, report.object] };
}

const objectPath = (t: Tracking, hash: string) => (t.objects as LocalObjectStore).objectPath(hash);
const exists = (t: Tracking, hash: string) => fs.existsSync(objectPath(t, hash));

describe('collectGarbage', () => {
  it("removes only what deleted runs alone referenced, and the dry run says the same bytes without removing anything", async () => {
    const { storeDir, tracking: t } = tempStore();
    const a = await finishedRun(t, 'run a');
    const b = await finishedRun(t, 'run b');
    fs.mkdirSync(path.join(storeDir, 'artifacts', 'spam', a.id), { recursive: true });
    fs.writeFileSync(path.join(storeDir, 'artifacts', 'spam', a.id, 'model.bin'), Buffer.alloc(5000));
    fs.mkdirSync(path.join(storeDir, 'artifacts', 'spam', b.id), { recursive: true });
    await deleteRun(t, a.id);
    const later = { now: Date.now() + HOUR };

    const dry = await collectGarbage(t, storeDir, { ...later, dryRun: true });
    expect(dry.objects.count).toBe(6);
    expect(dry.artifacts).toEqual({ count: 1, bytes: 5000 });
    expect(a.objects.every((h) => exists(t, h))).toBe(true);

    const real = await collectGarbage(t, storeDir, later);
    expect(real.bytes).toBe(dry.bytes);
    expect({ ...real, dryRun: true }).toEqual(dry);
    expect(a.objects.filter((h) => exists(t, h))).toEqual([]);
    expect(b.objects.every((h) => exists(t, h))).toBe(true);
    expect(fs.readdirSync(path.join(storeDir, 'artifacts', 'spam'))).toEqual([b.id]);
    // Run b is whole: its cached execution is still usable (every output object is there).
    expect(await t.runs.findCachedExecution('train', 'fp-run b')).not.toBeNull();
    expect((await collectGarbage(t, storeDir, later)).bytes).toBe(0);
  });

  it('keeps objects younger than the grace cutoff, and everything written since the oldest RUNNING run started', async () => {
    const { storeDir, tracking: t } = tempStore();
    const orphan = await t.objects.putBytes('written by a run, not recorded yet');
    // Right after it was written: within the grace period.
    expect(await collectGarbage(t, storeDir)).toMatchObject({ objects: { count: 0 }, keptAsRecent: 1 });

    const running = await t.runs.createRun(newRun({ startTime: Date.now() - 2 * HOUR }));
    const old = Date.now() - 3 * HOUR;
    const older = await t.objects.putBytes('older than the running run');
    fs.utimesSync(objectPath(t, older), old / 1000, old / 1000);
    // An hour later the orphan is past the grace period, but the run that may be writing it is still RUNNING.
    const r = await collectGarbage(t, storeDir, { now: Date.now() + HOUR });
    expect(r).toMatchObject({ objects: { count: 1 }, keptAsRecent: 1 });
    expect([exists(t, orphan), exists(t, older)]).toEqual([true, false]);

    await t.runs.finishRun(running.id, { status: 'FINISHED' });
    expect((await collectGarbage(t, storeDir, { now: Date.now() + HOUR })).objects.count).toBe(1);
    expect(exists(t, orphan)).toBe(false);
  });

  it('an object re-used by a run is marked as just used, so the grace period covers it again', async () => {
    const { storeDir, tracking: t } = tempStore();
    const hash = await t.objects.putBytes('shared content');
    const old = (Date.now() - 3 * HOUR) / 1000;
    fs.utimesSync(objectPath(t, hash), old, old);
    expect(await t.objects.putBytes('shared content')).toBe(hash);
    expect(fs.statSync(objectPath(t, hash)).mtimeMs).toBeGreaterThan(Date.now() - GC_GRACE_MS);
    expect((await collectGarbage(t, storeDir)).keptAsRecent).toBe(1);
  });

  it('--keep-last deletes older runs but never a RUNNING one or the run of a registered version', async () => {
    const { storeDir, tracking: t } = tempStore();
    const t0 = Date.now() - 10 * HOUR;
    const registered = await finishedRun(t, 'registered', t0);
    const running = await t.runs.createRun(newRun({ startTime: t0 + 1 }));
    const old = await finishedRun(t, 'old', t0 + 2);
    const newest = await finishedRun(t, 'newest', t0 + 3);
    await t.registry.registerVersion({ model: 'spam', artifactPath: 'models/spam/v1', artifactSha256: registered.objects[0], runId: registered.id, commit: null });
    const r = await collectGarbage(t, storeDir, { keepLast: 1, now: Date.now() + HOUR });
    expect(r.runsDeleted).toEqual([old.id]);
    expect((await t.runs.listRuns()).map((x) => x.id).sort()).toEqual([registered.id, running.id, newest.id].sort());
    expect(registered.objects.every((h) => exists(t, h))).toBe(true);
    // The RUNNING run started before old's objects were written: they may be ones it is about to reference.
    expect(old.objects.every((h) => exists(t, h))).toBe(true);
    await t.runs.finishRun(running.id, { status: 'KILLED' });
    await collectGarbage(t, storeDir, { now: Date.now() + HOUR });
    expect(old.objects.some((h) => exists(t, h))).toBe(false);
    expect(registered.objects.every((h) => exists(t, h))).toBe(true);

    const stillRunning = await t.runs.createRun(newRun());
    expect(await codesOf(() => deleteRun(t, stillRunning.id))).toEqual(['KILN4018']);
    expect(await codesOf(() => deleteRun(t, registered.id))).toEqual(['KILN4018']);
    await expect(deleteRun(t, registered.id)).rejects.toThrow(`run ${registered.id} cannot be deleted: registered model version(s) spam@v1 were built from it`);
  });

  it('sweeps partial writes in objects/tmp and dead artifact builds once they are old', async () => {
    const { storeDir, tracking: t } = tempStore();
    const tmp = path.join(storeDir, 'objects', 'tmp');
    fs.mkdirSync(tmp, { recursive: true });
    fs.writeFileSync(path.join(tmp, '999999-0123456789abcdef'), Buffer.alloc(13_000));
    // Named as a build names it (a run that is not RUNNING: its build died).
    const building = buildingFolder(path.join(storeDir, 'artifacts', 'spam', '20260101-gone'), '20260101-gone');
    fs.mkdirSync(building, { recursive: true });
    fs.writeFileSync(path.join(building, 'bundle.mjs'), 'x');
    expect((await collectGarbage(t, storeDir)).temporary.count).toBe(0);
    const r = await collectGarbage(t, storeDir, { now: Date.now() + HOUR });
    expect(r.temporary).toEqual({ count: 2, bytes: 13_001 });
    expect(fs.readdirSync(tmp)).toEqual([]);
    expect(fs.existsSync(building)).toBe(false);
  });
});
