// The content-addressed object store: files at <store>/objects/ab/cdef… named by the sha256 of their bytes.
// A folder is stored as a tree: one object listing relative path → hash of each file. Writes go to a temporary file
// that is fsynced and then renamed into place, so a crash (even of the machine) never leaves a partial object under its
// final name. A writer of many objects may defer that (`deferSync`): the object stays staged until `sync()` makes the
// batch durable together: small objects (and trees) are held in memory and written as one pack (see packs.ts), larger
// ones are staged under a temporary name and renamed in.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import { diag, KilnError } from '../diagnostics/index.ts';
import { rethrowStoreFull } from './disk-full.ts';
import { processLiveness } from './liveness.ts';
import { datasyncPath, fsyncPath, tempPathBeside } from '../runtime/atomic.ts';
import { Packs, type PackLocation, type StagedPack } from './packs.ts';

export const HASH_PATTERN = /^[0-9a-f]{64}$/;
/** Files up to this size are staged from one read (see putFile); larger ones are streamed, never held whole in memory. */
const SMALL_FILE_BYTES = 1024 * 1024;
/** A staged object up to this size joins the batch's pack instead of getting a file of its own. */
const PACKED_OBJECT_BYTES = 256 * 1024;
/** At most this much is held in memory for the next pack; beyond it, small objects are staged as files. */
const PACK_MEMORY_BYTES = 64 * 1024 * 1024;
/** First line of a tree object; what tells a tree from a file when restoring. */
const TREE_MAGIC = 'kiln-tree 1\n';

export interface TreeEntry {
  /** Path relative to the folder, with forward slashes. */
  path: string;
  hash: string;
  size: number;
}

export type ObjectKind = 'blob' | 'tree';

export interface PutOptions {
  /**
   * Stage the object instead of fsyncing it now: readable by this store at once, placed under its name (and so seen
   * by other processes and recordable) only at the next `sync()`. One fsync per object cost a trivial node of a run
   * milliseconds; a run's snapshots are synced together before the records that point at them are written.
   */
  deferSync?: boolean;
}

/** Where snapshots live. Local folders now; object storage (S3 and the like) can stand behind it later. */
export interface ObjectStore {
  readonly location: string;
  putBytes(data: Uint8Array | string, opts?: PutOptions): Promise<string>;
  /** Streams the file into the store while hashing it. */
  putFile(file: string, opts?: PutOptions): Promise<string>;
  /** Stores every file under `dir`, then a tree object listing them; returns the tree's hash. */
  putTree(dir: string, opts?: PutOptions): Promise<string>;
  /** Makes every object staged with `deferSync` durable and places it under its name. A record may then point at it. */
  sync(): Promise<void>;
  /** `putFile` or `putTree`, by what `p` is. */
  putPath(p: string): Promise<{ hash: string; kind: ObjectKind }>;
  has(hash: string): Promise<boolean>;
  /** `has`, and when the object is there, marks it as just used so that a `kiln gc` running meanwhile keeps it. */
  reuse(hash: string): Promise<boolean>;
  /** `has`, and for a tree every file it lists too. */
  hasComplete(hash: string): Promise<boolean>;
  /** `hasComplete` on this machine's disk alone, for a store with a remote behind it (remote-objects.ts); absent: the same. */
  hasCompleteHere?(hash: string): Promise<boolean>;
  /** The bytes of an object, checked against its hash. */
  getBytes(hash: string): Promise<Buffer>;
  /** The entries of a tree object, or null when the object is a file. */
  readTree(hash: string): Promise<TreeEntry[] | null>;
  /** Writes the object to `dest` (a file, or a folder for a tree), replacing what is there; checks every hash. */
  restore(hash: string, dest: string): Promise<ObjectKind>;
  size(hash: string): Promise<number | null>;
}

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The sha256 of a file, streamed. */
export async function hashFile(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** The hash a folder gets as a tree object, without storing anything. */
export async function hashTree(dir: string): Promise<string> {
  const files = await listTree(dir);
  const entries: TreeEntry[] = [];
  for (const f of files) entries.push({ path: f.rel, hash: await hashFile(f.abs), size: f.size });
  return sha256(treeBytes(entries));
}

/** Content hash of a dataset on disk: a file's sha256, or a folder's tree hash. The same hash `putPath` stores it under. */
export async function hashPath(p: string): Promise<string> {
  const st = await fsp.stat(p);
  return st.isDirectory() ? hashTree(p) : hashFile(p);
}

function treeBytes(entries: TreeEntry[]): string {
  return TREE_MAGIC + JSON.stringify({ entries }) + '\n';
}

function assertHash(hash: string): void {
  if (!HASH_PATTERN.test(hash)) {
    throw new KilnError(diag('KILN4011', { what: 'object hash', name: hash, reason: 'an object hash is 64 lowercase hexadecimal characters', fix: 'Use the hash exactly as kiln printed it.' }));
  }
}

interface TreeFile {
  rel: string;
  abs: string;
  size: number;
}

/** Regular files under `dir` (links to files followed), sorted by relative path so that a tree's hash is deterministic. */
async function listTree(dir: string): Promise<TreeFile[]> {
  const out: TreeFile[] = [];
  const visit = async (abs: string, rel: string): Promise<void> => {
    const entries = await fsp.readdir(abs, { withFileTypes: true });
    for (const e of entries) {
      const a = path.join(abs, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        await visit(a, r);
        continue;
      }
      let st: fs.Stats;
      try {
        st = await fsp.stat(a);
      } catch {
        throw new KilnError(diag('KILN4017', { path: a, reason: 'it is a broken link' }));
      }
      if (e.isSymbolicLink() && st.isDirectory()) throw new KilnError(diag('KILN4017', { path: a, reason: 'it is a link to a folder' }));
      if (!st.isFile()) throw new KilnError(diag('KILN4017', { path: a, reason: 'it is neither a regular file nor a folder' }));
      out.push({ rel: r, abs: a, size: st.size });
    }
  };
  await visit(dir, '');
  out.sort((x, y) => (x.rel < y.rel ? -1 : x.rel > y.rel ? 1 : 0));
  return out;
}

/** Where an object's bytes are: held for the next pack, in a file (staged or placed), or in a pack. */
type ObjectSource = { kind: 'memory'; data: Buffer } | { kind: 'file'; path: string } | { kind: 'packed'; at: PackLocation };

export class LocalObjectStore implements ObjectStore {
  readonly location: string;
  /** The packs under <objects>/packs: what `kiln gc` reads and rewrites. */
  readonly packs: Packs;
  private readonly tmpDir: string;
  /** Objects written with `deferSync` and not yet synced: hash → their temporary file. */
  private readonly staged = new Map<string, string>();
  /** Small objects written with `deferSync` and not yet synced, for the next pack: hash → bytes, in staging order. */
  private readonly packable = new Map<string, Buffer>();
  private packableBytes = 0;
  /** Folders known to exist, so that a run does not ask for each object's folder again (gc may remove an empty one: see place). */
  private readonly folders = new Set<string>();
  private syncing: Promise<void> = Promise.resolve();

  constructor(location: string) {
    this.location = path.resolve(location);
    this.tmpDir = path.join(this.location, 'tmp');
    this.packs = new Packs(this.location);
  }

  /** Where the object with this hash lives (whether or not it exists). */
  objectPath(hash: string): string {
    assertHash(hash);
    return path.join(this.location, hash.slice(0, 2), hash.slice(2));
  }

  /**
   * Where the object's bytes are, or null when this store does not have it. `recheck`: list the packs again before
   * saying no (another process may have written one since); a writer avoiding a duplicate does not need to.
   */
  private locate(hash: string, recheck = true): ObjectSource | null {
    assertHash(hash);
    const held = this.packable.get(hash);
    if (held) return { kind: 'memory', data: held };
    const tmp = this.staged.get(hash);
    if (tmp) return { kind: 'file', path: tmp };
    const packed = this.packs.find(hash, false);
    if (packed && this.packs.exists(packed.pack)) return { kind: 'packed', at: packed };
    const file = this.objectPath(hash);
    if (fs.existsSync(file)) return { kind: 'file', path: file };
    if (!recheck) return null;
    const again = this.packs.find(hash, true);
    return again && this.packs.exists(again.pack) ? { kind: 'packed', at: again } : null;
  }

  /**
   * What to upload the object from: its own file, or its bytes when it has none (packed, or held for the next pack:
   * small by construction, PACKED_OBJECT_BYTES at most). Null when this store does not have it.
   */
  async blobSource(hash: string): Promise<string | Buffer | null> {
    const src = this.locate(hash);
    if (!src) return null;
    if (src.kind === 'file') return src.path;
    return this.getBytes(hash);
  }

  /** The first `limit` bytes of a packed object (all of it by default), following a repack by another process's gc. */
  private readPacked(hash: string, at: PackLocation, limit = at.length): Buffer | null {
    const take = { ...at, length: Math.min(limit, at.length) };
    const data = this.packs.read(take);
    if (data) return data;
    const moved = this.packs.find(hash, true);
    return moved && moved.pack !== at.pack ? this.packs.read({ ...moved, length: Math.min(limit, moved.length) }) : null;
  }

  /** The object's bytes, unverified, and where they were read from (for messages); null when it is not here. */
  private readObject(hash: string): { data: Buffer; from: string } | null {
    const src = this.locate(hash);
    if (!src) return null;
    if (src.kind === 'memory') return { data: src.data, from: this.location };
    if (src.kind === 'packed') {
      const data = this.readPacked(hash, src.at);
      return data ? { data, from: this.packs.packPath(src.at.pack) } : null;
    }
    try {
      return { data: fs.readFileSync(src.path), from: src.path };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  /** Whether the object starts like a tree, read from wherever it is; null when it is not here. */
  private isTree(hash: string): boolean | null {
    const src = this.locate(hash);
    if (!src) return null;
    let head: Buffer | null;
    if (src.kind === 'memory') head = src.data.subarray(0, TREE_MAGIC.length);
    else if (src.kind === 'packed') head = this.readPacked(hash, src.at, TREE_MAGIC.length);
    else {
      let fd: number;
      try {
        fd = fs.openSync(src.path, 'r');
      } catch {
        return null;
      }
      try {
        head = Buffer.alloc(TREE_MAGIC.length);
        head = head.subarray(0, fs.readSync(fd, head, 0, head.length, 0));
      } finally {
        fs.closeSync(fd);
      }
    }
    if (!head) return null;
    return head.length === TREE_MAGIC.length && head.toString('utf8') === TREE_MAGIC;
  }

  /** Where the object is durable: its own file, or the pack that holds it; null while it is only staged, or absent. */
  placedIn(hash: string): string | null {
    assertHash(hash);
    const packed = this.packs.find(hash, true);
    if (packed && this.packs.exists(packed.pack)) return this.packs.packPath(packed.pack);
    const file = this.objectPath(hash);
    return fs.existsSync(file) ? file : null;
  }

  /** Temporary files are named `<pid>-<random>`, so that those of a process that died can be told apart and swept. */
  private tempFile(): string {
    return path.join(this.tmpDir, `${process.pid}-${randomBytes(8).toString('hex')}`);
  }

  private async folder(dir: string): Promise<void> {
    if (this.folders.has(dir)) return;
    await fsp.mkdir(dir, { recursive: true });
    this.folders.add(dir);
  }

  /**
   * Removes the temporary files of writers that died (killed, or the machine went down) mid-write: a partial object of
   * a full disk would otherwise keep the disk full for ever. Only this host's dead processes' files; returns their count.
   */
  sweepDeadTemporaries(): number {
    let names: string[];
    try {
      names = fs.readdirSync(this.tmpDir);
    } catch {
      return 0;
    }
    let swept = 0;
    for (const name of names) {
      const pid = /^(\d+)-[0-9a-f]{16}$/.exec(name)?.[1];
      if (pid === undefined || processLiveness({ hostname: os.hostname(), pid: Number(pid), start: null }) !== 'gone') continue;
      fs.rmSync(path.join(this.tmpDir, name), { force: true });
      swept++;
    }
    return swept;
  }

  /**
   * Writes an object through a temporary file that `fill` writes, then renames it to its hash's name (or stages it,
   * with `deferSync`). Whatever fails (a full disk above all, reported as KILN4019 with the size needed), the
   * temporary file is removed.
   */
  private async write(fill: (fh: fsp.FileHandle) => Promise<string>, size: number | null, opts: PutOptions): Promise<string> {
    const tmp = this.tempFile();
    try {
      await this.folder(this.tmpDir);
      const fh = await fsp.open(tmp, 'wx');
      let hash: string;
      try {
        hash = await fill(fh);
        if (!opts.deferSync) await fh.sync();
      } finally {
        await fh.close();
      }
      if (opts.deferSync ? this.staged.has(hash) || this.packable.has(hash) || (await this.touch(hash)) : await this.reuse(hash)) {
        // An object already there has the same content by construction.
        await fsp.rm(tmp, { force: true });
        return hash;
      }
      if (opts.deferSync) this.staged.set(hash, tmp);
      else await this.place(tmp, hash);
      return hash;
    } catch (e) {
      await fsp.rm(tmp, { force: true });
      return rethrowStoreFull(e, this.location, 'storing an object', size);
    }
  }

  /** Renames a complete, fsynced temporary file to the object's name. */
  private async place(tmp: string, hash: string): Promise<void> {
    const dest = this.objectPath(hash);
    await this.folder(path.dirname(dest));
    try {
      // Synchronous: a sync places a whole run's snapshots, and a rename is one quick system call.
      fs.renameSync(tmp, dest);
    } catch (e) {
      // `kiln gc` in another process removes a prefix folder once it is empty; make it again.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || !fs.existsSync(tmp)) throw e;
      this.folders.delete(path.dirname(dest));
      await this.folder(path.dirname(dest));
      fs.renameSync(tmp, dest);
    }
  }

  async sync(): Promise<void> {
    // One sync at a time: a second waits for the first and then takes what was staged meanwhile.
    const next = this.syncing.then(() => this.syncStaged());
    this.syncing = next.catch(() => {});
    return next;
  }

  /**
   * fsyncs every staged file (several at once: the disk's flushes overlap), renames each to its object name, then
   * fsyncs the folders that got new names, so that the renames survive a crash of the machine too. Until then a
   * staged object is no object at all: a kill leaves only a temporary file, swept when the store next opens.
   */
  private async syncStaged(): Promise<void> {
    const batch = [...this.staged];
    const packed = [...this.packable];
    if (batch.length === 0 && packed.length === 0) return;
    let pack: StagedPack | null = null;
    try {
      if (packed.length) await this.folder(this.tmpDir);
      const [, staged] = await Promise.all([eachLimited(batch, 8, ([, tmp]) => datasyncPath(tmp)), packed.length ? this.packs.stage(packed, () => this.tempFile()) : null]);
      pack = staged;
      const folders = new Set<string>();
      for (const [hash, tmp] of batch) {
        if (this.touchNow(hash)) fs.rmSync(tmp, { force: true });
        else await this.place(tmp, hash);
        this.staged.delete(hash);
        folders.add(path.dirname(this.objectPath(hash)));
      }
      await eachLimited([...folders], 8, fsyncPath);
      // The pack after the files: a tree it holds lists files that are in place already (in this pack or before it).
      if (pack) await this.packs.place(pack, fsyncPath);
      pack = null;
      for (const [hash, data] of packed) this.dropPackable(hash, data);
    } catch (e) {
      // What could not be made durable is dropped, not kept to fill the disk: no record points at it.
      for (const [hash, tmp] of batch) {
        if (this.staged.get(hash) !== tmp) continue;
        this.staged.delete(hash);
        fs.rmSync(tmp, { force: true });
      }
      for (const [hash, data] of packed) this.dropPackable(hash, data);
      if (pack) for (const f of [pack.pack, pack.index]) fs.rmSync(f, { force: true });
      return rethrowStoreFull(e, this.location, 'storing an object', null);
    }
  }

  private dropPackable(hash: string, data: Buffer): void {
    if (this.packable.get(hash) !== data) return;
    this.packable.delete(hash);
    this.packableBytes -= data.byteLength;
  }

  /**
   * Writes objects as one pack, durably, now: what `kiln gc` keeps of the packs it rewrites. Each object's bytes are
   * checked against its hash first, so that a rewrite never carries damage into a new pack.
   */
  async writePack(objects: ReadonlyArray<readonly [string, Buffer]>): Promise<string | null> {
    const sound = objects.filter(([hash, data]) => sha256(data) === hash);
    if (sound.length === 0) return null;
    await this.folder(this.tmpDir);
    const staged = await this.packs.stage(sound, () => this.tempFile());
    try {
      await this.packs.place(staged, fsyncPath);
    } catch (e) {
      for (const f of [staged.pack, staged.index]) fs.rmSync(f, { force: true });
      return rethrowStoreFull(e, this.location, 'rewriting a pack', null);
    }
    return staged.id;
  }


  async putBytes(data: Uint8Array | string, opts: PutOptions = {}): Promise<string> {
    const hash = sha256(data);
    if (opts.deferSync) return this.stageBytes(hash, data, false);
    if (await this.reuse(hash)) return hash;
    return this.write(async (fh) => {
      await fh.writeFile(data);
      return hash;
    }, typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength, opts);
  }

  /**
   * Stages bytes with synchronous calls: a run stages one small snapshot per node, and the thread-pool round trips of
   * the asynchronous calls (stat, open, write, close) cost more CPU than the writes themselves.
   */
  private stageBytes(hash: string, data: Uint8Array | string, tree: boolean): string {
    if (this.packable.has(hash) || this.staged.has(hash) || this.touchNow(hash)) return hash;
    const size = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    // Trees always go to the pack, whatever their size: placed after the files they list, a sync never names a tree
    // before its files.
    if (tree || (size <= PACKED_OBJECT_BYTES && this.packableBytes + size <= PACK_MEMORY_BYTES)) {
      // A copy: the caller may reuse its buffer once this returns.
      const held = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
      this.packable.set(hash, held);
      this.packableBytes += size;
      return hash;
    }
    const tmp = this.tempFile();
    try {
      if (!this.folders.has(this.tmpDir)) {
        fs.mkdirSync(this.tmpDir, { recursive: true });
        this.folders.add(this.tmpDir);
      }
      fs.writeFileSync(tmp, data, { flag: 'wx' });
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      return rethrowStoreFull(e, this.location, 'storing an object', size);
    }
    this.staged.set(hash, tmp);
    return hash;
  }

  /** `touch`, synchronously, and without an exception for the usual answer (a new snapshot is not there yet). */
  private touchNow(hash: string): boolean {
    const packed = this.packs.find(hash, false);
    if (packed && this.packs.touch(packed.pack)) return true;
    const file = this.objectPath(hash);
    if (!fs.statSync(file, { throwIfNoEntry: false })) return false;
    const now = new Date();
    try {
      fs.utimesSync(file, now, now);
    } catch {
      // A read-only store (another user's): the object is there, it just cannot be marked.
    }
    return true;
  }

  async putFile(file: string, opts: PutOptions = {}): Promise<string> {
    const size = await fsp.stat(file).then((st) => st.size, () => null);
    // A small file staged for a run is read once and staged like bytes: the stream and FileHandle round trips of the
    // general path cost a node with a small file output more CPU than reading and writing it.
    if (opts.deferSync && size !== null && size <= SMALL_FILE_BYTES) {
      const data = fs.readFileSync(file);
      return this.stageBytes(sha256(data), data, false);
    }
    return this.write(async (fh) => {
      const h = createHash('sha256');
      for await (const chunk of fs.createReadStream(file)) {
        h.update(chunk as Buffer);
        await fh.write(chunk as Buffer);
      }
      return h.digest('hex');
    }, size, opts);
  }

  async putTree(dir: string, opts: PutOptions = {}): Promise<string> {
    const files = await listTree(dir);
    const entries: TreeEntry[] = [];
    for (const f of files) entries.push({ path: f.rel, hash: await this.putFile(f.abs, opts), size: f.size });
    // The tree is written last: a tree object that exists always lists files that were stored before it (a sync
    // places the files before the tree too: trees go to the pack, which is named after the loose files).
    const bytes = treeBytes(entries);
    if (opts.deferSync) return this.stageBytes(sha256(bytes), bytes, true);
    return this.putBytes(bytes, opts);
  }

  async putPath(p: string): Promise<{ hash: string; kind: ObjectKind }> {
    const st = await fsp.stat(p);
    return st.isDirectory() ? { hash: await this.putTree(p), kind: 'tree' } : { hash: await this.putFile(p), kind: 'blob' };
  }

  async has(hash: string): Promise<boolean> {
    return this.locate(hash) !== null;
  }

  /**
   * Whether the object is in place (not merely staged), marking it as just used so that a `kiln gc` running meanwhile
   * keeps it. A staged object is synced first: whoever asks is about to rely on it.
   */
  async reuse(hash: string): Promise<boolean> {
    if (this.staged.has(hash) || this.packable.has(hash)) await this.sync();
    return this.touch(hash);
  }

  /** `reuse` of an object in place, never waiting for a sync (the sync itself asks). */
  private async touch(hash: string): Promise<boolean> {
    // gc removes only objects older than its grace cutoff: a fresh modification time keeps this one (or its pack).
    const packed = this.packs.find(hash, false);
    if (packed && this.packs.touch(packed.pack)) return true;
    const now = new Date();
    try {
      await fsp.utimes(this.objectPath(hash), now, now);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        const listed = this.packs.find(hash, true);
        return listed !== null && this.packs.touch(listed.pack);
      }
      // A read-only store (another user's): the object is there, it just cannot be marked.
      return fs.existsSync(this.objectPath(hash));
    }
  }

  async hasComplete(hash: string): Promise<boolean> {
    // Synchronous: a cached run asks this for every output of every node, and a thread-pool round trip per call
    // cost more than the stat and the peek themselves.
    const isTree = this.isTree(hash);
    if (isTree === null) return false;
    if (!isTree) return true;
    const tree = await this.readTree(hash).catch(() => null);
    if (!tree) return false;
    return tree.every((e) => HASH_PATTERN.test(e.hash) && this.locate(e.hash) !== null);
  }

  async size(hash: string): Promise<number | null> {
    const src = this.locate(hash);
    if (!src) return null;
    if (src.kind === 'memory') return src.data.byteLength;
    if (src.kind === 'packed') return src.at.length;
    try {
      return (await fsp.stat(src.path)).size;
    } catch {
      return null;
    }
  }

  async getBytes(hash: string): Promise<Buffer> {
    const found = this.readObject(hash);
    if (!found) throw new KilnError(diag('KILN4015', { hash, path: this.location }));
    const actual = sha256(found.data);
    if (actual !== hash) throw new KilnError(diag('KILN4016', { hash, path: found.from, actual }));
    return found.data;
  }

  async readTree(hash: string): Promise<TreeEntry[] | null> {
    // Peek at the first bytes so that large files are not read just to learn they are not trees.
    const isTree = this.isTree(hash);
    if (isTree === null) throw new KilnError(diag('KILN4015', { hash, path: this.location }));
    if (!isTree) return null;
    const text = (await this.getBytes(hash)).toString('utf8');
    const parsed = JSON.parse(text.slice(TREE_MAGIC.length)) as { entries: TreeEntry[] };
    return parsed.entries;
  }

  async restore(hash: string, dest: string): Promise<ObjectKind> {
    const tree = await this.readTree(hash);
    const target = path.resolve(dest);
    await fsp.mkdir(path.dirname(target), { recursive: true });
    // Named like the runtime's atomic writes, so that a restore killed half-way is swept like a save killed half-way.
    const staging = tempPathBeside(target, 'tmp');
    try {
      if (tree) {
        await fsp.mkdir(staging);
        for (const e of tree) {
          const rel = path.normalize(e.path);
          if (path.isAbsolute(rel) || rel.split(path.sep).includes('..')) throw new KilnError(diag('KILN4016', { hash, path: this.objectPath(hash), actual: `an entry outside the folder (${e.path})` }));
          const out = path.join(staging, rel);
          await fsp.mkdir(path.dirname(out), { recursive: true });
          await this.copyVerified(e.hash, out);
        }
      } else {
        await this.copyVerified(hash, staging);
      }
      await replace(staging, target);
    } catch (e) {
      await fsp.rm(staging, { recursive: true, force: true });
      throw e;
    }
    return tree ? 'tree' : 'blob';
  }

  /** Copies an object to `out`, hashing on the way; a mismatch is reported and nothing is left behind. */
  private async copyVerified(hash: string, out: string): Promise<void> {
    const found = this.locate(hash);
    if (!found) throw new KilnError(diag('KILN4015', { hash, path: this.location }));
    if (found.kind !== 'file') {
      // Small by construction (held for a pack, or packed): read whole, checked, then written.
      const data = await this.getBytes(hash);
      await fsp.writeFile(out, data, { flag: 'wx' });
      return;
    }
    const src = found.path;
    const h = createHash('sha256');
    const fh = await fsp.open(out, 'wx');
    try {
      for await (const chunk of fs.createReadStream(src)) {
        h.update(chunk as Buffer);
        await fh.write(chunk as Buffer);
      }
    } finally {
      await fh.close();
    }
    const actual = h.digest('hex');
    if (actual !== hash) {
      await fsp.rm(out, { force: true });
      throw new KilnError(diag('KILN4016', { hash, path: src, actual }));
    }
  }
}

/** Runs `fn` on every item, at most `limit` at a time. */
async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Puts `staging` at `target`; what was at `target` is moved aside first and removed after, so `target` is never half-written. */
async function replace(staging: string, target: string): Promise<void> {
  let aside: string | null = null;
  if (fs.existsSync(target)) {
    aside = tempPathBeside(target, 'old');
    await fsp.rename(target, aside);
  }
  try {
    await fsp.rename(staging, target);
  } catch (e) {
    if (aside) await fsp.rename(aside, target);
    throw e;
  }
  if (aside) await fsp.rm(aside, { recursive: true, force: true });
}
