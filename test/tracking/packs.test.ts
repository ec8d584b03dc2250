// Packs: the small objects of one sync written as one pack file and its index. What they must keep: every read checks
// the hash, a crash mid-write leaves no index pointing at missing bytes, other processes see new packs, and gc drops
// what no run needs (rewriting old packs into one) without losing what runs still reference.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { LocalObjectStore } from '../../src/tracking/objects.ts';
import { collectGarbage } from '../../src/tracking/gc.ts';
import { deleteRun } from '../../src/tracking/delete-run.ts';
import type { Tracking } from '../../src/tracking/index.ts';
import { codesOf, diagnosticOf, newRun, tempDir, tempStore } from './helpers.ts';

const HOUR = 3_600_000;

function packFiles(objectsDir: string): string[] {
  const dir = path.join(objectsDir, 'packs');
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
}

/** A finished run whose node output `contents` as snapshots staged for one sync, as a tracked run writes them. */
async function runWithSnapshots(t: Tracking, contents: string[]) {
  const hashes = [];
  for (const c of contents) hashes.push(await t.objects.putBytes(c, { deferSync: true }));
  const run = await t.runs.createRun(newRun());
  await t.runs.recordNodes(
    run.id,
    hashes.map((h, i) => ({ node: `n${i}`, start: { fingerprint: `fp-${contents[i]}`, startTime: Date.now() }, finish: { status: 'FINISHED', outputs: { out: { sha256: h, object: h } }, endTime: Date.now() } })),
  );
  await t.runs.finishRun(run.id, { status: 'FINISHED' });
  return { id: run.id, hashes };
}

describe('packs', () => {
  it('serve reads to other store instances, tree and files alike, restored and checked', async () => {
    const root = path.join(tempDir(), 'objects');
    const writer = new LocalObjectStore(root);
    const reader = new LocalObjectStore(root);
    // The reader has listed the (empty) packs folder before the writer's pack exists: a miss lists it again.
    expect(await reader.has('0'.repeat(64))).toBe(false);
    const folder = path.join(tempDir(), 'vocabulary');
    fs.mkdirSync(path.join(folder, 'parts'), { recursive: true });
    fs.writeFileSync(path.join(folder, 'words.json'), '["free","win"]');
    fs.writeFileSync(path.join(folder, 'parts', 'one.txt'), 'one');
    const tree = await writer.putTree(folder, { deferSync: true });
    await writer.sync();
    expect(packFiles(root)).toHaveLength(2);
    expect(await reader.hasComplete(tree)).toBe(true);
    expect((await reader.readTree(tree))!.map((e) => e.path)).toEqual(['parts/one.txt', 'words.json']);
    const dest = path.join(tempDir(), 'restored');
    expect(await reader.restore(tree, dest)).toBe('tree');
    expect(fs.readFileSync(path.join(dest, 'words.json'), 'utf8')).toBe('["free","win"]');
    expect(fs.readFileSync(path.join(dest, 'parts', 'one.txt'), 'utf8')).toBe('one');
    expect(await reader.size(tree)).toBe((await reader.getBytes(tree)).length);
  });

  it('refuse tampered bytes (KILN4016, naming the pack) and a damaged index (KILN4056)', async () => {
    const root = path.join(tempDir(), 'objects');
    const store = new LocalObjectStore(root);
    const a = await store.putBytes('first snapshot', { deferSync: true });
    const b = await store.putBytes('second snapshot', { deferSync: true });
    await store.sync();
    const [idx, pack] = packFiles(root).map((n) => path.join(root, 'packs', n));
    const bytes = fs.readFileSync(pack);
    bytes[bytes.indexOf('second')] = 'S'.charCodeAt(0);
    fs.writeFileSync(pack, bytes);
    const fresh = new LocalObjectStore(root);
    expect((await fresh.getBytes(a)).toString()).toBe('first snapshot');
    const d = await diagnosticOf(() => fresh.getBytes(b));
    expect(d.code).toBe('KILN4016');
    expect(d.message).toContain(pack);
    const out = path.join(tempDir(), 'out.txt');
    expect(await codesOf(() => fresh.restore(b, out))).toEqual(['KILN4016']);
    expect(fs.existsSync(out)).toBe(false);

    const index = fs.readFileSync(idx);
    index[20] ^= 0xff;
    fs.writeFileSync(idx, index);
    const damaged = await diagnosticOf(() => new LocalObjectStore(root).getBytes(a));
    expect(damaged.code).toBe('KILN4056');
    expect(damaged.message).toContain(idx);
    expect(damaged.message).toContain('checksum');
  });

  it('leave no index pointing at missing bytes when the writer dies between naming the pack and its index', async () => {
    const { storeDir, tracking: t } = tempStore();
    const store = t.objects as LocalObjectStore;
    const h = await store.putBytes('lost in a crash', { deferSync: true });
    const realRename = fs.renameSync;
    const spy = vi.spyOn(fs, 'renameSync').mockImplementation(((from: fs.PathLike, to: fs.PathLike) => {
      if (String(to).endsWith('.idx')) throw Object.assign(new Error('killed'), { code: 'EIO' });
      realRename(from, to);
    }) as typeof fs.renameSync);
    try {
      await expect(store.sync()).rejects.toThrow('killed');
    } finally {
      spy.mockRestore();
    }
    const objectsDir = path.join(storeDir, 'objects');
    expect(packFiles(objectsDir).map((n) => path.extname(n))).toEqual(['.pack']);
    // No reader sees the object: it was never recorded, and the next run writes it again.
    expect(await new LocalObjectStore(objectsDir).has(h)).toBe(false);
    expect(await store.has(h)).toBe(false);
    // gc removes the pack without an index once it is past the grace period, as a partial write.
    expect((await collectGarbage(t, storeDir)).temporary.count).toBe(0);
    const r = await collectGarbage(t, storeDir, { now: Date.now() + HOUR });
    expect(r.temporary.count).toBe(1);
    expect(packFiles(objectsDir)).toEqual([]);
  });

  it('are rewritten by gc into one pack with what listed runs need; a young pack is kept', async () => {
    const { storeDir, tracking: t } = tempStore();
    const objectsDir = path.join(storeDir, 'objects');
    const a = await runWithSnapshots(t, ['a1', 'a2', 'shared']);
    const b = await runWithSnapshots(t, ['b1', 'shared']);
    expect(packFiles(objectsDir)).toHaveLength(4);
    await deleteRun(t, a.id);
    const later = { now: Date.now() + HOUR };
    const dry = await collectGarbage(t, storeDir, { ...later, dryRun: true });
    expect(dry.objects).toEqual({ count: 2, bytes: 4 });
    expect(packFiles(objectsDir)).toHaveLength(4);

    // A reader that knew the old packs follows the rewrite.
    const reader = new LocalObjectStore(objectsDir);
    expect((await reader.getBytes(b.hashes[0])).toString()).toBe('b1');
    const real = await collectGarbage(t, storeDir, later);
    expect(real.objects).toEqual(dry.objects);
    expect(packFiles(objectsDir)).toHaveLength(2);
    for (const h of b.hashes) expect((await reader.getBytes(h)).toString()).toMatch(/^(b1|shared)$/);
    for (const h of a.hashes.slice(0, 2)) expect(await reader.has(h)).toBe(false);
    expect(await t.runs.findCachedExecution('n0', 'fp-b1')).not.toBeNull();
    expect((await collectGarbage(t, storeDir, later)).objects.count).toBe(0);

    // Within the grace period nothing of a pack goes, even what no run references.
    await runWithSnapshots(t, ['c1']);
    const c = await t.objects.putBytes('orphan', { deferSync: true });
    await t.objects.sync();
    const recent = await collectGarbage(t, storeDir);
    expect(recent.objects.count).toBe(0);
    expect(recent.keptAsRecent).toBe(1);
    expect(await t.objects.has(c)).toBe(true);
  });
});
