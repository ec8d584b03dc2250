// The content-addressed object store: files at <store>/objects/ab/cdef… named by the sha256 of their bytes.
// A folder is stored as a tree: one object listing relative path → hash of each file. Writes go to a temporary file
// that is fsynced and then renamed into place, so a crash (even of the machine) never leaves a partial object under its
// final name. A writer of many objects may defer that (`deferSync`): the object stays staged, under its temporary
// name, until `sync()` fsyncs the staged files together and renames them in.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import { diag, KilnError } from '../diagnostics/index.ts';
import { rethrowStoreFull } from './disk-full.ts';
import { processLiveness } from './liveness.ts';
import { datasyncPath, fsyncPath, tempPathBeside } from '../runtime/atomic.ts';

export const HASH_PATTERN = /^[0-9a-f]{64}$/;
/** Files up to this size are staged from one read (see putFile); larger ones are streamed, never held whole in memory. */
const SMALL_FILE_BYTES = 1024 * 1024;
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

export class LocalObjectStore implements ObjectStore {
  readonly location: string;
  private readonly tmpDir: string;
  /** Objects written with `deferSync` and not yet synced: hash → their temporary file. */
  private readonly staged = new Map<string, string>();
  /** Folders known to exist, so that a run does not ask for each object's folder again (gc may remove an empty one: see place). */
  private readonly folders = new Set<string>();
  private syncing: Promise<void> = Promise.resolve();

  constructor(location: string) {
    this.location = path.resolve(location);
    this.tmpDir = path.join(this.location, 'tmp');
  }

  /** Where the object with this hash lives (whether or not it exists). */
  objectPath(hash: string): string {
    assertHash(hash);
    return path.join(this.location, hash.slice(0, 2), hash.slice(2));
  }

  /** Where this store reads the object from: its staged file until it is synced. */
  private readPath(hash: string): string {
    return this.staged.get(hash) ?? this.objectPath(hash);
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
      if (opts.deferSync ? this.staged.has(hash) || (await this.touch(hash)) : await this.reuse(hash)) {
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
    if (batch.length === 0) return;
    try {
      await eachLimited(batch, 8, ([, tmp]) => datasyncPath(tmp));
      const folders = new Set<string>();
      for (const [hash, tmp] of batch) {
        if (this.touchNow(hash)) fs.rmSync(tmp, { force: true });
        else await this.place(tmp, hash);
        this.staged.delete(hash);
        folders.add(path.dirname(this.objectPath(hash)));
      }
      await eachLimited([...folders], 8, fsyncPath);
    } catch (e) {
      // What could not be made durable is dropped, not kept to fill the disk: no record points at it.
      for (const [hash, tmp] of batch) {
        if (this.staged.get(hash) !== tmp) continue;
        this.staged.delete(hash);
        fs.rmSync(tmp, { force: true });
      }
      return rethrowStoreFull(e, this.location, 'storing an object', null);
    }
  }

  async putBytes(data: Uint8Array | string, opts: PutOptions = {}): Promise<string> {
    const hash = sha256(data);
    if (opts.deferSync) return this.stageBytes(hash, data);
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
  private stageBytes(hash: string, data: Uint8Array | string): string {
    if (this.staged.has(hash) || this.touchNow(hash)) return hash;
    const tmp = this.tempFile();
    try {
      if (!this.folders.has(this.tmpDir)) {
        fs.mkdirSync(this.tmpDir, { recursive: true });
        this.folders.add(this.tmpDir);
      }
      fs.writeFileSync(tmp, data, { flag: 'wx' });
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      return rethrowStoreFull(e, this.location, 'storing an object', typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength);
    }
    this.staged.set(hash, tmp);
    return hash;
  }

  /** `touch`, synchronously, and without an exception for the usual answer (a new snapshot is not there yet). */
  private touchNow(hash: string): boolean {
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
      return this.stageBytes(sha256(data), data);
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
    // places the files before the tree too, in the order they were staged).
    return this.putBytes(treeBytes(entries), opts);
  }

  async putPath(p: string): Promise<{ hash: string; kind: ObjectKind }> {
    const st = await fsp.stat(p);
    return st.isDirectory() ? { hash: await this.putTree(p), kind: 'tree' } : { hash: await this.putFile(p), kind: 'blob' };
  }

  async has(hash: string): Promise<boolean> {
    return fs.existsSync(this.readPath(hash));
  }

  /**
   * Whether the object is in place (not merely staged), marking it as just used so that a `kiln gc` running meanwhile
   * keeps it. A staged object is synced first: whoever asks is about to rely on it.
   */
  async reuse(hash: string): Promise<boolean> {
    if (this.staged.has(hash)) await this.sync();
    return this.touch(hash);
  }

  /** `reuse` of an object in place, never waiting for a sync (the sync itself asks). */
  private async touch(hash: string): Promise<boolean> {
    // gc removes only objects older than its grace cutoff: a fresh modification time keeps this one.
    const now = new Date();
    try {
      await fsp.utimes(this.objectPath(hash), now, now);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      // A read-only store (another user's): the object is there, it just cannot be marked.
      return fs.existsSync(this.objectPath(hash));
    }
  }

  async hasComplete(hash: string): Promise<boolean> {
    const file = this.readPath(hash);
    // Synchronous: a cached run asks this for every output of every node, and a thread-pool round trip per call
    // cost more than the stat and the peek themselves.
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch {
      return false;
    }
    let isTree: boolean;
    try {
      const head = Buffer.alloc(TREE_MAGIC.length);
      isTree = fs.readSync(fd, head, 0, head.length, 0) === head.length && head.toString('utf8') === TREE_MAGIC;
    } finally {
      fs.closeSync(fd);
    }
    if (!isTree) return true;
    const tree = await this.readTree(hash).catch(() => null);
    if (!tree) return false;
    return tree.every((e) => HASH_PATTERN.test(e.hash) && fs.existsSync(this.readPath(e.hash)));
  }

  async size(hash: string): Promise<number | null> {
    try {
      return (await fsp.stat(this.readPath(hash))).size;
    } catch {
      return null;
    }
  }

  async getBytes(hash: string): Promise<Buffer> {
    const file = this.readPath(hash);
    let data: Buffer;
    try {
      data = await fsp.readFile(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new KilnError(diag('KILN4015', { hash, path: this.location }));
      throw e;
    }
    const actual = sha256(data);
    if (actual !== hash) throw new KilnError(diag('KILN4016', { hash, path: file, actual }));
    return data;
  }

  async readTree(hash: string): Promise<TreeEntry[] | null> {
    const file = this.readPath(hash);
    // Peek at the first bytes so that large files are not read just to learn they are not trees.
    const fh = await fsp.open(file, 'r').catch((e: NodeJS.ErrnoException) => {
      throw e.code === 'ENOENT' ? new KilnError(diag('KILN4015', { hash, path: this.location })) : e;
    });
    try {
      const head = Buffer.alloc(TREE_MAGIC.length);
      const { bytesRead } = await fh.read(head, 0, head.length, 0);
      if (bytesRead < head.length || head.toString('utf8') !== TREE_MAGIC) return null;
    } finally {
      await fh.close();
    }
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
    const src = this.readPath(hash);
    if (!fs.existsSync(src)) throw new KilnError(diag('KILN4015', { hash, path: this.location }));
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
