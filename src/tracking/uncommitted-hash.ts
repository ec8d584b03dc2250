// Hashes of the uncommitted files of a working tree: each file's git blob id (what `git hash-object` prints, so
// that two dirty runs can be told apart file by file and checked against git), and one sha256 over all of them.
// A symbolic link is hashed as its target's text, as git stores it: a link to a data folder on another disk is
// a normal set-up, and following it would read a directory (or a whole disk).
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { UncommittedFile, UncommittedStatus } from './git.ts';

/** What the stamp knows of a file before hashing it. */
export interface ChangedPath {
  path: string;
  status: UncommittedStatus;
  /** For a repository inside the tree (a submodule, a clone): the commit checked out there, which git records
   *  instead of its files (null when it has none). Absent for a file. */
  commit?: string | null;
}

type Content = { size: number; chunks: AsyncIterable<Buffer> | Buffer[] } | { missing: 'gone' | 'not a file' };

/** The content git would store for `abs`: a regular file (streamed), a link's text; nothing for anything else. */
function contentOf(abs: string): Content {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(abs);
  } catch {
    return { missing: 'gone' };
  }
  if (st.isSymbolicLink()) {
    let text: Buffer;
    try {
      text = Buffer.from(fs.readlinkSync(abs));
    } catch {
      return { missing: 'gone' };
    }
    return { size: text.length, chunks: [text] };
  }
  // Fifos, sockets and devices are not content git would store (reading a fifo would block the run).
  if (!st.isFile()) return { missing: 'not a file' };
  return { size: st.size, chunks: fs.createReadStream(abs) };
}

/**
 * The blob id of each file, and the sha256 over `path NUL status NUL size NUL bytes` of all of them (so that no two
 * different change sets hash the same). One streamed read per file feeds both: a huge untracked file is never held
 * in memory. A file that cannot be read (or changes size while read) gets no blob id instead of failing the run.
 */
export async function hashUncommitted(root: string, files: readonly ChangedPath[]): Promise<{ files: UncommittedFile[]; diffHash: string }> {
  const total = createHash('sha256');
  const out: UncommittedFile[] = [];
  for (const f of files) {
    total.update(`${f.path}\0${f.status}\0`);
    if (f.status === 'deleted') {
      out.push({ path: f.path, status: f.status, blob: null });
      continue;
    }
    if (f.commit !== undefined) {
      total.update(`commit ${f.commit ?? 'none'}\0`);
      out.push({ path: f.path, status: f.status, blob: f.commit });
      continue;
    }
    const content = contentOf(path.join(root, ...f.path.split('/')));
    if ('missing' in content) {
      total.update(`${content.missing}\0`);
      out.push({ path: f.path, status: f.status, blob: null });
      continue;
    }
    total.update(`${content.size}\0`);
    const blob = createHash('sha1').update(`blob ${content.size}\0`);
    let read = 0;
    try {
      for await (const chunk of content.chunks) {
        read += chunk.length;
        blob.update(chunk);
        total.update(chunk);
      }
    } catch (e) {
      total.update(`\0unreadable ${(e as NodeJS.ErrnoException).code ?? ''}\0`);
      out.push({ path: f.path, status: f.status, blob: null });
      continue;
    }
    out.push({ path: f.path, status: f.status, blob: read === content.size ? blob.digest('hex') : null });
  }
  return { files: out, diffHash: total.digest('hex') };
}
