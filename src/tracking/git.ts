// The git stamp of a run: commit, branch, and what in the working tree differs from that commit (with a hash of it),
// read with isomorphic-git so that no git binary is needed.
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import git from 'isomorphic-git';
import { diag, type Diagnostic } from '../diagnostics/index.ts';

export type UncommittedStatus = 'modified' | 'added' | 'deleted' | 'untracked';

export interface UncommittedFile {
  /** Path relative to the repository root, with forward slashes. */
  path: string;
  status: UncommittedStatus;
}

export interface GitStamp {
  /** Absolute path of the repository's working tree, or null outside a repository. */
  root: string | null;
  commit: string | null;
  /** Short branch name; null when HEAD is detached or outside a repository. */
  branch: string | null;
  /** Whether the working tree differs from the commit; null when unknown (no repository or no commit). */
  dirty: boolean | null;
  /** Files whose working-tree content differs from the commit, sorted by path. Ignored files are left out. */
  uncommitted: UncommittedFile[];
  /** sha256 over the paths, statuses and contents of the uncommitted files; null when clean or unknown. */
  diffHash: string | null;
}

export interface GitStampOptions {
  /** Folders (absolute, or relative to `dir`) left out of the dirty check: the run store, for one. */
  exclude?: string[];
}

/**
 * Stamps `dir` (a project folder, anywhere inside a working tree). Outside a repository, or before its first commit,
 * the stamp has no commit and a KILN4001 warning says why; it never fails a run.
 */
export async function gitStamp(dir: string, opts: GitStampOptions = {}): Promise<{ stamp: GitStamp; diagnostics: Diagnostic[] }> {
  const abs = path.resolve(dir);
  const unknown = (root: string | null, branch: string | null, reason: string) => ({
    stamp: { root, commit: null, branch, dirty: null, uncommitted: [], diffHash: null } satisfies GitStamp,
    diagnostics: [diag('KILN4001', { reason })],
  });
  let root: string;
  try {
    root = await git.findRoot({ fs, filepath: abs });
  } catch (e) {
    if ((e as { code?: string }).code === 'NotFoundError') return unknown(null, null, `no git repository at or above ${abs}`);
    throw e;
  }
  const cache = {};
  const branch = (await git.currentBranch({ fs, dir: root, fullname: false })) || null;
  let commit: string;
  try {
    commit = await git.resolveRef({ fs, dir: root, ref: 'HEAD' });
  } catch (e) {
    if ((e as { code?: string }).code === 'NotFoundError') return unknown(root, branch, `the repository at ${root} has no commits yet`);
    throw e;
  }

  const excluded = (opts.exclude ?? [])
    .map((p) => path.relative(root, path.resolve(abs, p)).split(path.sep).join('/'))
    .filter((rel) => rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel));
  const keep = (file: string) => !excluded.some((ex) => file === ex || file.startsWith(ex + '/'));

  // refresh: false keeps this read-only: the stamp never rewrites the user's .git/index behind their back.
  const matrix = await git.statusMatrix({ fs, dir: root, cache, filter: keep, refresh: false });
  const uncommitted: UncommittedFile[] = [];
  for (const row of matrix) {
    // Columns: file, HEAD, working tree, index; 0 absent, 1 same as HEAD, 2 same as working tree, 3 other.
    const [file, head, workdir, stage] = row;
    // The run used the working tree, so only working tree vs commit matters; changes that exist only in the index do not.
    if (head === 1 && workdir === 1) continue;
    if (head === 0 && workdir === 0) continue;
    let status: UncommittedStatus;
    if (workdir === 0) status = 'deleted';
    else if (head === 1) status = 'modified';
    else status = stage === 0 ? 'untracked' : 'added';
    uncommitted.push({ path: file, status });
  }
  uncommitted.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const diffHash = uncommitted.length ? await hashUncommitted(root, uncommitted) : null;
  return { stamp: { root, commit, branch, dirty: uncommitted.length > 0, uncommitted, diffHash }, diagnostics: [] };
}

/** Each file as `path NUL status NUL size NUL bytes`, so that no two different change sets hash the same. */
async function hashUncommitted(root: string, files: UncommittedFile[]): Promise<string> {
  const h = createHash('sha256');
  for (const f of files) {
    h.update(`${f.path}\0${f.status}\0`);
    if (f.status === 'deleted') continue;
    const abs = path.join(root, f.path);
    let size: number;
    try {
      size = fs.statSync(abs).size;
    } catch {
      h.update('gone\0');
      continue;
    }
    h.update(`${size}\0`);
    for await (const chunk of fs.createReadStream(abs)) h.update(chunk as Buffer);
  }
  return h.digest('hex');
}
