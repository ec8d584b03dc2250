// Packs: the small objects a run stages in one batch, written together as one file, like git's packs. A file per
// object (created, fsynced, renamed) cost a tracked node most of its overhead; a pack costs one file per batch.
// <objects>/packs/<id>.pack holds the objects' bytes one after the other; <id>.idx lists hash → offset and length,
// sorted, with a sha256 of the listing at its end. The pack is made durable and named before its index, so an index
// never points at bytes that are not on disk; a reader knows only packs that have an index.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { diag, KilnError } from '../diagnostics/index.ts';
import { datasyncPath } from '../runtime/atomic.ts';

export const PACKS_FOLDER = 'packs';
const INDEX_MAGIC = Buffer.from('kiln-pack-idx 1\n');
const HASH_BYTES = 32;
/** hash, offset (8 bytes), length (4 bytes). */
const ENTRY_BYTES = HASH_BYTES + 8 + 4;

/** A pack up to this size is read whole and held in memory once read from; all held packs together stay under HELD_BYTES. */
const HELD_PACK_BYTES = 16 * 1024 * 1024;
const HELD_BYTES = 64 * 1024 * 1024;

export interface PackedObject {
  hash: string;
  offset: number;
  length: number;
}

export interface PackLocation extends PackedObject {
  /** The pack's id: the sha256 of its bytes. */
  pack: string;
}

export function encodeIndex(objects: readonly PackedObject[]): Buffer {
  const sorted = [...objects].sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
  const body = Buffer.alloc(INDEX_MAGIC.length + sorted.length * ENTRY_BYTES);
  INDEX_MAGIC.copy(body, 0);
  let at = INDEX_MAGIC.length;
  for (const o of sorted) {
    body.write(o.hash, at, HASH_BYTES, 'hex');
    // Two halves rather than a BigInt: a bigint per entry cost more than the rest of the index.
    body.writeUInt32BE(Math.floor(o.offset / 2 ** 32), at + HASH_BYTES);
    body.writeUInt32BE(o.offset % 2 ** 32, at + HASH_BYTES + 4);
    body.writeUInt32BE(o.length, at + HASH_BYTES + 8);
    at += ENTRY_BYTES;
  }
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

/** The objects an index lists; KILN4056 when it is not a whole, unaltered kiln pack index. */
export function decodeIndex(data: Buffer, file: string): PackedObject[] {
  const damaged = (reason: string) => new KilnError(diag('KILN4056', { path: file, reason }));
  if (data.length < INDEX_MAGIC.length + HASH_BYTES || !data.subarray(0, INDEX_MAGIC.length).equals(INDEX_MAGIC)) throw damaged('it does not start like a kiln pack index');
  const body = data.subarray(0, data.length - HASH_BYTES);
  if ((body.length - INDEX_MAGIC.length) % ENTRY_BYTES !== 0) throw damaged(`its length (${data.length} bytes) is not that of a whole index`);
  if (!createHash('sha256').update(body).digest().equals(data.subarray(body.length))) throw damaged('its checksum does not match its content');
  const out: PackedObject[] = [];
  for (let at = INDEX_MAGIC.length; at < body.length; at += ENTRY_BYTES) {
    out.push({ hash: body.toString('hex', at, at + HASH_BYTES), offset: body.readUInt32BE(at + HASH_BYTES) * 2 ** 32 + body.readUInt32BE(at + HASH_BYTES + 4), length: body.readUInt32BE(at + HASH_BYTES + 8) });
  }
  return out;
}

/** The packs of one object store, as this process knows them: the indexes it has read, merged into one lookup. */
export class Packs {
  readonly dir: string;
  private readonly located = new Map<string, PackLocation>();
  /** pack id → the hashes its index lists, for the packs whose index was read. */
  private readonly known = new Map<string, string[]>();
  private listed = false;
  /** Whole packs read into memory, by id. */
  private readonly held = new Map<string, Buffer>();
  private heldBytes = 0;
  /** Packs this process marked as used: once is enough, a mark keeps a pack from gc for the rest of the run. */
  private readonly touched = new Set<string>();

  constructor(objectsDir: string) {
    this.dir = path.join(objectsDir, PACKS_FOLDER);
  }

  packPath(id: string): string {
    return path.join(this.dir, `${id}.pack`);
  }

  indexPath(id: string): string {
    return path.join(this.dir, `${id}.idx`);
  }

  /** Ids of the packs that have an index, as the folder holds them now. */
  ids(): string[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return [];
    }
    return names.filter((n) => /^[0-9a-f]{64}\.idx$/.test(n)).map((n) => n.slice(0, 64));
  }

  /** The objects one pack's index lists. */
  entries(id: string): PackedObject[] {
    const file = this.indexPath(id);
    return decodeIndex(fs.readFileSync(file), file);
  }

  /**
   * Reads the indexes added since the last listing and forgets the packs that are gone (`kiln gc` of another process
   * repacked them). A pack whose index vanished between the listing and the read is skipped, like one that is gone.
   */
  relist(): void {
    const ids = new Set(this.ids());
    for (const [id, hashes] of this.known) {
      if (ids.has(id)) continue;
      for (const h of hashes) if (this.located.get(h)?.pack === id) this.located.delete(h);
      this.known.delete(id);
      this.release(id);
    }
    for (const id of ids) {
      if (this.known.has(id)) continue;
      let listed: PackedObject[];
      try {
        listed = this.entries(id);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
      this.add(id, listed);
    }
    this.listed = true;
  }

  private add(id: string, listed: readonly PackedObject[]): void {
    for (const o of listed) this.located.set(o.hash, { ...o, pack: id });
    this.known.set(id, listed.map((o) => o.hash));
  }

  /**
   * Where the object is packed, or null. `recheck`: when it is not in a known pack that is still there, list the
   * folder again first (another process may have written a pack since, or rewritten the one it was in); callers that
   * only avoid a duplicate write do not need to.
   */
  find(hash: string, recheck: boolean): PackLocation | null {
    if (!this.listed) this.relist();
    const found = this.located.get(hash);
    if (!recheck) return found ?? null;
    if (found && this.exists(found.pack)) return found;
    this.relist();
    return this.located.get(hash) ?? null;
  }

  /**
   * The object's bytes as the pack holds them (unverified), or null when the pack is gone. A pack is read whole the
   * first time and held (within HELD_BYTES): a cached run reads an object of each of its packs per node, and a pack's
   * bytes never change under its name.
   */
  read(at: PackLocation): Buffer | null {
    const whole = this.whole(at.pack);
    if (whole) return at.offset + at.length <= whole.length ? Buffer.from(whole.subarray(at.offset, at.offset + at.length)) : Buffer.from(whole.subarray(at.offset));
    let fd: number;
    try {
      fd = fs.openSync(this.packPath(at.pack), 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    try {
      const out = Buffer.alloc(at.length);
      let got = 0;
      while (got < at.length) {
        const n = fs.readSync(fd, out, got, at.length - got, at.offset + got);
        if (n === 0) break;
        got += n;
      }
      return got === at.length ? out : out.subarray(0, got);
    } finally {
      fs.closeSync(fd);
    }
  }

  private whole(id: string): Buffer | null {
    const held = this.held.get(id);
    if (held) return held;
    let data: Buffer;
    try {
      const size = fs.statSync(this.packPath(id)).size;
      if (size > HELD_PACK_BYTES || this.heldBytes + size > HELD_BYTES) return null;
      data = fs.readFileSync(this.packPath(id));
    } catch {
      return null;
    }
    this.held.set(id, data);
    this.heldBytes += data.length;
    return data;
  }

  /** Whether the pack file is still there. */
  exists(id: string): boolean {
    return fs.existsSync(this.packPath(id));
  }

  /** Marks a pack as just used (its modification time), so that a `kiln gc` running meanwhile keeps it; false when it is gone. */
  touch(id: string): boolean {
    if (this.touched.has(id)) return true;
    const now = new Date();
    try {
      fs.utimesSync(this.packPath(id), now, now);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      // A read-only store (another user's): the pack is there, it just cannot be marked.
    }
    this.touched.add(id);
    return true;
  }

  /**
   * Writes `objects` as a pack and its index into temporary files (through `temp`), flushed to disk; returns the
   * pack's id and the two files, for `place` to name. Nothing is visible to readers yet.
   */
  async stage(objects: ReadonlyArray<readonly [string, Uint8Array]>, temp: () => string): Promise<StagedPack> {
    const listed: PackedObject[] = [];
    const parts: Uint8Array[] = [];
    let offset = 0;
    const h = createHash('sha256');
    for (const [hash, data] of objects) {
      listed.push({ hash, offset, length: data.byteLength });
      parts.push(data);
      h.update(data);
      offset += data.byteLength;
    }
    const id = h.digest('hex');
    const pack = temp();
    const index = temp();
    try {
      // Both at once: the disk's flushes overlap.
      await Promise.all([writeDurably(pack, Buffer.concat(parts, offset)), writeDurably(index, encodeIndex(listed))]);
    } catch (e) {
      fs.rmSync(pack, { force: true });
      fs.rmSync(index, { force: true });
      throw e;
    }
    return { id, pack, index, listed };
  }

  /**
   * Names a staged pack: the pack first and its folder synced, then the index, then the folder again. A crash in
   * between leaves at most a pack without an index, which no reader sees and `kiln gc` removes.
   */
  async place(staged: StagedPack, syncFolder: (dir: string) => Promise<void>): Promise<void> {
    fs.mkdirSync(this.dir, { recursive: true });
    fs.renameSync(staged.pack, this.packPath(staged.id));
    await syncFolder(this.dir);
    fs.renameSync(staged.index, this.indexPath(staged.id));
    await syncFolder(this.dir);
    if (this.listed) this.add(staged.id, staged.listed);
    this.touched.add(staged.id);
  }

  /** Removes a pack: its index first, so that no reader is ever pointed at a pack file that is gone. */
  remove(id: string): void {
    fs.rmSync(this.indexPath(id), { force: true });
    fs.rmSync(this.packPath(id), { force: true });
    const hashes = this.known.get(id) ?? [];
    for (const h of hashes) if (this.located.get(h)?.pack === id) this.located.delete(h);
    this.known.delete(id);
    this.release(id);
  }

  private release(id: string): void {
    const held = this.held.get(id);
    if (!held) return;
    this.held.delete(id);
    this.heldBytes -= held.length;
  }
}

/** A pack and its index written to temporary files and flushed, not yet named. */
export interface StagedPack {
  id: string;
  pack: string;
  index: string;
  listed: PackedObject[];
}

/** Writes a new file and flushes its content to disk before returning. */
async function writeDurably(file: string, data: Uint8Array): Promise<void> {
  await fsp.writeFile(file, data, { flag: 'wx' });
  await datasyncPath(file);
}
