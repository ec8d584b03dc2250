import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { LocalObjectStore, hashPath, hashTree } from '../../src/tracking/objects.ts';
import { codesOf, diagnosticOf, tempDir } from './helpers.ts';

const sha = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');

/** Every file under the store except temporary ones, as paths relative to it. */
function objectFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(root, p));
    }
  };
  if (fs.existsSync(root)) walk(root);
  return out.sort();
}

function makeTree(dir: string): void {
  fs.mkdirSync(path.join(dir, 'weights'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'model.json'), '{"format":"layers-model"}');
  fs.writeFileSync(path.join(dir, 'weights', 'group1.bin'), Buffer.from([0, 1, 2, 3, 255]));
}

describe('object store', () => {
  it('stores bytes and files under their sha256 at ab/cdef…, once', async () => {
    const root = path.join(tempDir(), 'objects');
    const store = new LocalObjectStore(root);
    const h = await store.putBytes('hello');
    expect(h).toBe(sha('hello'));
    expect(fs.readFileSync(path.join(root, h.slice(0, 2), h.slice(2)), 'utf8')).toBe('hello');
    expect(await store.putBytes(Buffer.from('hello'))).toBe(h);

    const big = path.join(tempDir(), 'big.bin');
    const content = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
    fs.writeFileSync(big, content);
    const hf = await store.putFile(big);
    expect(hf).toBe(sha(content));
    expect(await hashPath(big)).toBe(hf);
    expect(await store.size(hf)).toBe(content.length);
    // Only final objects remain: no temporary file is left behind after writes.
    expect(objectFiles(root).filter((f) => !f.startsWith('tmp'))).toEqual([`${h.slice(0, 2)}/${h.slice(2)}`, `${hf.slice(0, 2)}/${hf.slice(2)}`].sort());
    expect(objectFiles(path.join(root, 'tmp'))).toEqual([]);
  });

  it('stores a folder as a tree and restores it, replacing what was there', async () => {
    const store = new LocalObjectStore(path.join(tempDir(), 'objects'));
    const src = path.join(tempDir(), 'classifier');
    makeTree(src);
    const tree = await store.putTree(src);
    expect(await hashTree(src)).toBe(tree);
    expect(await hashPath(src)).toBe(tree);
    const entries = await store.readTree(tree);
    expect(entries?.map((e) => e.path)).toEqual(['model.json', 'weights/group1.bin']);
    expect(await store.readTree(entries![0].hash)).toBeNull();
    expect(await store.hasComplete(tree)).toBe(true);

    const dest = path.join(tempDir(), 'restored');
    fs.mkdirSync(dest);
    fs.writeFileSync(path.join(dest, 'stale.txt'), 'old');
    expect(await store.restore(tree, dest)).toBe('tree');
    expect(fs.readdirSync(dest).sort()).toEqual(['model.json', 'weights']);
    expect(fs.readFileSync(path.join(dest, 'weights', 'group1.bin'))).toEqual(Buffer.from([0, 1, 2, 3, 255]));
    expect(fs.readdirSync(path.dirname(dest)).filter((n) => n.includes('.kiln-'))).toEqual([]);

    const file = path.join(tempDir(), 'one.json');
    expect(await store.restore(entries![0].hash, file)).toBe('blob');
    expect(fs.readFileSync(file, 'utf8')).toBe('{"format":"layers-model"}');

    // A tree whose member file went missing is not complete.
    fs.rmSync(path.join(store.location, entries![1].hash.slice(0, 2), entries![1].hash.slice(2)));
    expect(await store.has(tree)).toBe(true);
    expect(await store.hasComplete(tree)).toBe(false);
    expect(await codesOf(() => store.restore(tree, path.join(tempDir(), 'again')))).toEqual(['KILN4015']);
  });

  it('gives a folder the same tree hash whatever order its files were written in', async () => {
    const a = path.join(tempDir(), 'a');
    const b = path.join(tempDir(), 'b');
    fs.mkdirSync(a);
    fs.mkdirSync(b);
    for (const n of ['x', 'y', 'z']) fs.writeFileSync(path.join(a, n), n);
    for (const n of ['z', 'x', 'y']) fs.writeFileSync(path.join(b, n), n);
    expect(await hashTree(a)).toBe(await hashTree(b));
    fs.writeFileSync(path.join(b, 'x'), 'changed');
    expect(await hashTree(a)).not.toBe(await hashTree(b));
  });

  it('reports a missing object (KILN4015) and a corrupt one (KILN4016), never handing out wrong bytes', async () => {
    const store = new LocalObjectStore(path.join(tempDir(), 'objects'));
    expect(await codesOf(() => store.getBytes('0'.repeat(64)))).toEqual(['KILN4015']);
    const h = await store.putBytes('the real content');
    fs.writeFileSync(store.objectPath(h), 'tampered');
    const d = await diagnosticOf(() => store.getBytes(h));
    expect(d.code).toBe('KILN4016');
    expect(d.message).toContain(sha('tampered'));
    const dest = path.join(tempDir(), 'out.txt');
    expect(await codesOf(() => store.restore(h, dest))).toEqual(['KILN4016']);
    expect(fs.existsSync(dest)).toBe(false);
  });

  it('refuses hashes that are not sha256 (no path tricks) with KILN4011', async () => {
    const store = new LocalObjectStore(path.join(tempDir(), 'objects'));
    expect(await codesOf(() => store.getBytes('../../etc/passwd'))).toEqual(['KILN4011']);
    expect(await codesOf(() => store.has('ABC'))).toEqual(['KILN4011']);
  });

  it('refuses to snapshot a folder holding a link to a folder (KILN4017)', async () => {
    const store = new LocalObjectStore(path.join(tempDir(), 'objects'));
    const src = path.join(tempDir(), 'data');
    makeTree(src);
    fs.symlinkSync(path.join(src, 'weights'), path.join(src, 'loop'));
    const d = await diagnosticOf(() => store.putTree(src));
    expect(d.code).toBe('KILN4017');
    expect(d.message).toContain('link to a folder');
  });

  it('sync flushes every staged object before any gets a name: large ones placed as files, then the pack, then its index', async () => {
    const root = path.join(tempDir(), 'objects');
    const store = new LocalObjectStore(root);
    const large = Buffer.alloc(300 * 1024, 1);
    const hashes = [await store.putBytes('a', { deferSync: true }), await store.putBytes('b', { deferSync: true }), await store.putBytes(large, { deferSync: true })];
    expect(objectFiles(root).filter((f) => !f.startsWith('tmp'))).toEqual([]);
    const events: string[] = [];
    const realRename = fs.renameSync;
    const realFsync = fs.fsync;
    const what = (content: Buffer) => (content.equals(large) ? 'large' : content.subarray(0, 13).toString('latin1') === 'kiln-pack-idx' ? 'index' : content.toString('latin1'));
    const spies = [
      vi.spyOn(fs, 'fdatasync').mockImplementation(((fd: number, done: (e: NodeJS.ErrnoException | null) => void) => {
        events.push(`datasync ${what(fs.readFileSync(fd))}`);
        done(null);
      }) as typeof fs.fdatasync),
      vi.spyOn(fs, 'renameSync').mockImplementation(((from: fs.PathLike, to: fs.PathLike) => {
        events.push(`name ${path.extname(String(to)) || 'file'}`);
        realRename(from, to);
      }) as typeof fs.renameSync),
      vi.spyOn(fs, 'fsync').mockImplementation(((fd: number, done: (e: NodeJS.ErrnoException | null) => void) => {
        events.push('sync folder');
        realFsync(fd, done);
      }) as typeof fs.fsync),
    ];
    try {
      await store.sync();
    } finally {
      for (const s of spies) s.mockRestore();
    }
    // Every content is flushed before anything is named (a crash never leaves a name on unflushed bytes); the pack is
    // named and its folder synced before the index is named, so an index never points at bytes that are not there.
    expect(events.slice(0, 3).sort()).toEqual(['datasync ab', 'datasync index', 'datasync large']);
    expect(events.slice(3)).toEqual(['name file', 'sync folder', 'name .pack', 'sync folder', 'name .idx', 'sync folder']);
    expect(objectFiles(root).filter((f) => !f.startsWith('tmp')).map((f) => f.split('/')[0])).toEqual([hashes[2].slice(0, 2), 'packs', 'packs']);
    for (const h of hashes) expect(store.placedIn(h)).not.toBeNull();
  });

  it('stages a file for a run, small (read once) or large (streamed): readable at once, placed only by sync', async () => {
    const root = path.join(tempDir(), 'objects');
    const store = new LocalObjectStore(root);
    const small = path.join(tempDir(), 'small.json');
    fs.writeFileSync(small, '{"rows":3}');
    const large = path.join(tempDir(), 'large.bin');
    fs.writeFileSync(large, Buffer.alloc(1024 * 1024 + 1, 9));
    const hashes = [await store.putFile(small, { deferSync: true }), await store.putFile(large, { deferSync: true })];
    expect(hashes).toEqual([sha(fs.readFileSync(small)), sha(fs.readFileSync(large))]);
    expect(objectFiles(root).filter((f) => !f.startsWith('tmp'))).toEqual([]);
    expect((await store.getBytes(hashes[0])).toString('utf8')).toBe('{"rows":3}');
    expect(await store.hasComplete(hashes[1])).toBe(true);
    await store.sync();
    expect(objectFiles(root).filter((f) => !f.startsWith('packs/'))).toEqual([path.join(hashes[1].slice(0, 2), hashes[1].slice(2))]);
    expect(store.placedIn(hashes[0])).toMatch(/packs\/[0-9a-f]{64}\.pack$/);
    expect((await store.getBytes(hashes[1])).equals(fs.readFileSync(large))).toBe(true);
    expect((await new LocalObjectStore(root).getBytes(hashes[0])).toString('utf8')).toBe('{"rows":3}');
  });
});
