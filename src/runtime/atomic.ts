// Writes that readers see whole or not at all: a file is written beside its target, flushed to disk and renamed
// over it; a folder is filled beside its target and swapped in. A process killed mid-write leaves the old state.
import { randomBytes } from 'node:crypto';
import fs, { constants as fsConstants } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

/** What `writeFileAtomic` accepts: the whole content, or chunks produced one after the other (streamed). */
export type AtomicData = string | Uint8Array | Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>;

const TEMP_MARK = '.kiln-';
/** Chunks are gathered up to this size before a write, so that a stream of small lines does not cost a syscall each. */
const WRITE_BUFFER = 1 << 20;

function tempName(base: string, kind: 'tmp' | 'old'): string {
  return `.${base}${TEMP_MARK}${process.pid}-${randomBytes(4).toString('hex')}.${kind}`;
}

/** A temporary path beside `target` that `removeStaleTemps` sweeps once this process is gone. */
export function tempPathBeside(target: string, kind: 'tmp' | 'old'): string {
  return path.join(path.dirname(target), tempName(path.basename(target), kind));
}

/** True for the names this module gives its temporary files and folders (partition listings skip them). */
export function isAtomicTemp(name: string): boolean {
  return name.startsWith('.') && name.includes(TEMP_MARK) && (name.endsWith('.tmp') || name.endsWith('.old'));
}

function pidOf(name: string): number | null {
  const m = /\.kiln-(\d+)-[0-9a-f]{8}\.(?:tmp|old)$/.exec(name);
  return m ? Number(m[1]) : null;
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** fsync of a file or folder; a folder's makes the names just added to it survive a crash of the machine. */
export async function fsyncPath(p: string): Promise<void> {
  try {
    await syncPath(p, fs.fsync);
  } catch (e) {
    // Some file systems refuse fsync on a folder (EINVAL, EISDIR); the rename is still atomic there.
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM' && code !== 'EBADF') throw e;
  }
}

/** fdatasync of a file's content (not its times): what a staged object needs before it is renamed to its name. */
export function datasyncPath(file: string): Promise<void> {
  return syncPath(file, fs.fdatasync);
}

/**
 * Opens, syncs and closes in one chain of thread-pool callbacks: through a FileHandle (fs/promises) the same three
 * calls cost twice the CPU, and a run syncs a file per node output and a folder per object prefix.
 */
function syncPath(p: string, sync: (fd: number, done: (e: NodeJS.ErrnoException | null) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.open(p, fsConstants.O_RDONLY, (openError, fd) => {
      if (openError) return reject(openError);
      sync(fd, (syncError) => {
        fs.close(fd, (closeError) => {
          const e = syncError ?? closeError;
          if (e) reject(e);
          else resolve();
        });
      });
    });
  });
}

async function writeAll(h: FileHandle, data: AtomicData): Promise<void> {
  if (typeof data === 'string' || data instanceof Uint8Array) {
    await h.writeFile(data);
    return;
  }
  let parts: Uint8Array[] = [];
  let size = 0;
  const flush = async () => {
    if (size === 0) return;
    const buf = parts.length === 1 ? parts[0] : Buffer.concat(parts, size);
    parts = [];
    size = 0;
    let off = 0;
    while (off < buf.byteLength) off += (await h.write(buf, off, buf.byteLength - off)).bytesWritten;
  };
  for await (const chunk of data as AsyncIterable<string | Uint8Array>) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    parts.push(bytes);
    size += bytes.byteLength;
    if (size >= WRITE_BUFFER) await flush();
  }
  await flush();
}

/**
 * Replaces `target` with `data`: written to a temporary file in the same folder, fsynced, then renamed over the
 * target (atomic on POSIX file systems), and the folder fsynced so that the rename survives a crash. On failure the
 * temporary file is removed and the target is untouched. Missing parent folders are created.
 */
export async function writeFileAtomic(target: string, data: AtomicData, opts: { mode?: number } = {}): Promise<void> {
  const dir = path.dirname(target);
  await mkdir(dir, { recursive: true });
  const tmp = path.join(dir, tempName(path.basename(target), 'tmp'));
  const h = await open(tmp, 'wx', opts.mode ?? 0o666);
  try {
    try {
      await writeAll(h, data);
      await h.sync();
    } finally {
      await h.close();
    }
    await rename(tmp, target);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
  await fsyncPath(dir);
}

/**
 * Removes temporary files and folders that writers of `target` left behind when they were killed (their process
 * is gone). Costs one listing of the target's folder.
 */
export async function removeStaleTemps(target: string): Promise<void> {
  const dir = path.dirname(target);
  const prefix = `.${path.basename(target)}${TEMP_MARK}`;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !isAtomicTemp(name)) continue;
    const pid = pidOf(name);
    if (pid !== null && !alive(pid)) await rm(path.join(dir, name), { recursive: true, force: true });
  }
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

async function oldCopies(dir: string): Promise<string[]> {
  const parent = path.dirname(dir);
  const prefix = `.${path.basename(dir)}${TEMP_MARK}`;
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return [];
  }
  return names.filter((n) => n.startsWith(prefix) && n.endsWith('.old')).sort().map((n) => path.join(parent, n));
}

/**
 * The folder to read `dir` from. Normally `dir` itself; when a swap was cut off between its two renames, `dir` is
 * missing and its previous content waits under a `.old` name beside it, which is then what readers get. Readers do
 * not repair (the next `replaceDirAtomic` does), so that a reader never races a writer. Null when neither exists.
 */
export async function dirForRead(dir: string): Promise<string | null> {
  if (await isDir(dir)) return dir;
  const olds = await oldCopies(dir);
  return olds.length > 0 ? olds[olds.length - 1] : null;
}

async function fsyncTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) await fsyncTree(p);
    else if (entry.isFile()) await fsyncPath(p);
  }
  await fsyncPath(dir);
}

/**
 * Replaces the folder `dir` with one that `fill` writes into a fresh temporary folder beside it. POSIX cannot
 * rename a folder over a non-empty one, so the swap is two renames (`dir` → `.dir.kiln-….old`, temporary → `dir`);
 * a process killed between them leaves the complete old folder under the `.old` name, which `dirForRead` serves
 * and the next call puts back before it starts. Either way readers see the old folder or the new one, whole.
 */
export async function replaceDirAtomic(dir: string, fill: (tmpDir: string) => Promise<void>): Promise<void> {
  const parent = path.dirname(dir);
  await mkdir(parent, { recursive: true });
  // Finish or undo a swap that a killed writer left half done, before stale temporaries (olds included) are swept.
  const olds = await oldCopies(dir);
  if (olds.length > 0) {
    if (!(await isDir(dir))) await rename(olds.pop()!, dir);
    for (const o of olds) await rm(o, { recursive: true, force: true });
  }
  await removeStaleTemps(dir);

  const tmp = path.join(parent, tempName(path.basename(dir), 'tmp'));
  await mkdir(tmp);
  try {
    await fill(tmp);
    await fsyncTree(tmp);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  let old: string | null = null;
  if (await isDir(dir)) {
    old = path.join(parent, tempName(path.basename(dir), 'old'));
    await rename(dir, old);
  }
  try {
    await rename(tmp, dir);
  } catch (e) {
    if (old) await rename(old, dir).catch(() => {});
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  await fsyncPath(parent);
  if (old) await rm(old, { recursive: true, force: true });
}
