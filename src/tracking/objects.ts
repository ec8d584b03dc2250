// The content-addressed object store: files at <store>/objects/ab/cdef… named by the sha256 of their bytes.
// A folder is stored as a tree: one object listing relative path → hash of each file. Writes go to a temporary file
// that is renamed into place, so a crash never leaves a partial object under its final name.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import { diag, KilnError } from '../diagnostics/index.ts';
import { rethrowStoreFull } from './disk-full.ts';
import { processLiveness } from './liveness.ts';
import { tempPathBeside } from '../runtime/atomic.ts';

export const HASH_PATTERN = /^[0-9a-f]{64}$/;
/** First line of a tree object; what tells a tree from a file when restoring. */
const TREE_MAGIC = 'kiln-tree 1\n';

export interface TreeEntry {
  /** Path relative to the folder, with forward slashes. */
  path: string;
  hash: string;
  size: number;
}

export type ObjectKind = 'blob' | 'tree';

/** Where snapshots live. Local folders now; object storage (S3 and the like) can stand behind it later. */
export interface ObjectStore {
  readonly location: string;
  putBytes(data: Uint8Array | string): Promise<string>;
  /** Streams the file into the store while hashing it. */
  putFile(file: string): Promise<string>;
  /** Stores every file under `dir`, then a tree object listing them; returns the tree's hash. */
  putTree(dir: string): Promise<string>;
  /** `putFile` or `putTree`, by what `p` is. */
  putPath(p: string): Promise<{ hash: string; kind: ObjectKind }>;
  has(hash: string): Promise<boolean>;
  /** `has`, and when the object is there, marks it as just used so that a `kiln gc` running meanwhile keeps it. */
  reuse(hash: string): Promise<boolean>;
  /** `has`, and for a tree every file it lists too. */
  hasComplete(hash: string): Promise<boolean>;
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

  constructor(location: string) {
    this.location = path.resolve(location);
    this.tmpDir = path.join(this.location, 'tmp');
  }

  /** Where the object with this hash lives (whether or not it exists). */
  objectPath(hash: string): string {
    assertHash(hash);
    return path.join(this.location, hash.slice(0, 2), hash.slice(2));
  }

  /** Temporary files are named `<pid>-<random>`, so that those of a process that died can be told apart and swept. */
  private tempFile(): string {
    return path.join(this.tmpDir, `${process.pid}-${randomBytes(8).toString('hex')}`);
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
   * Writes an object through a temporary file that `fill` writes, then renames it to its hash's name. Whatever fails
   * (a full disk above all, reported as KILN4019 with the size needed), the temporary file is removed.
   */
  private async write(fill: (fh: fsp.FileHandle) => Promise<string>, size: number | null): Promise<string> {
    const tmp = this.tempFile();
    try {
      await fsp.mkdir(this.tmpDir, { recursive: true });
      const fh = await fsp.open(tmp, 'wx');
      let hash: string;
      try {
        hash = await fill(fh);
        await fh.sync();
      } finally {
        await fh.close();
      }
      if (await this.reuse(hash)) {
        // An object already there has the same content by construction.
        await fsp.rm(tmp, { force: true });
        return hash;
      }
      await fsp.mkdir(path.dirname(this.objectPath(hash)), { recursive: true });
      await fsp.rename(tmp, this.objectPath(hash));
      return hash;
    } catch (e) {
      await fsp.rm(tmp, { force: true });
      return rethrowStoreFull(e, this.location, 'storing an object', size);
    }
  }

  async putBytes(data: Uint8Array | string): Promise<string> {
    const hash = sha256(data);
    if (await this.reuse(hash)) return hash;
    return this.write(async (fh) => {
      await fh.writeFile(data);
      return hash;
    }, typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength);
  }

  async putFile(file: string): Promise<string> {
    const size = await fsp.stat(file).then((st) => st.size, () => null);
    return this.write(async (fh) => {
      const h = createHash('sha256');
      for await (const chunk of fs.createReadStream(file)) {
        h.update(chunk as Buffer);
        await fh.write(chunk as Buffer);
      }
      return h.digest('hex');
    }, size);
  }

  async putTree(dir: string): Promise<string> {
    const files = await listTree(dir);
    const entries: TreeEntry[] = [];
    for (const f of files) entries.push({ path: f.rel, hash: await this.putFile(f.abs), size: f.size });
    // The tree is written last: a tree object that exists always lists files that were stored before it.
    return this.putBytes(treeBytes(entries));
  }

  async putPath(p: string): Promise<{ hash: string; kind: ObjectKind }> {
    const st = await fsp.stat(p);
    return st.isDirectory() ? { hash: await this.putTree(p), kind: 'tree' } : { hash: await this.putFile(p), kind: 'blob' };
  }

  async has(hash: string): Promise<boolean> {
    return fs.existsSync(this.objectPath(hash));
  }

  async reuse(hash: string): Promise<boolean> {
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
    if (!(await this.has(hash))) return false;
    const tree = await this.readTree(hash).catch(() => null);
    if (!tree) return true;
    return tree.every((e) => HASH_PATTERN.test(e.hash) && fs.existsSync(this.objectPath(e.hash)));
  }

  async size(hash: string): Promise<number | null> {
    try {
      return (await fsp.stat(this.objectPath(hash))).size;
    } catch {
      return null;
    }
  }

  async getBytes(hash: string): Promise<Buffer> {
    const file = this.objectPath(hash);
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
    const file = this.objectPath(hash);
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
    const src = this.objectPath(hash);
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
