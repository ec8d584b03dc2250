// Where a working tree's repository really is. A plain clone keeps it in `<root>/.git`; a linked worktree
// (`git worktree add`) and a submodule checkout have a `.git` file naming the git directory instead, and a worktree's
// git directory holds only HEAD and the index: refs and objects live in the shared directory its `commondir` names.
// isomorphic-git follows the `.git` file but knows nothing of `commondir`, so the file system handed to it sends
// the shared paths there.
import fs from 'node:fs';
import path from 'node:path';
import type { PromiseFsClient } from 'isomorphic-git';
import git from './isomorphic-git.ts';

/** The promise half of Node's fs that isomorphic-git uses. */
export type GitFs = PromiseFsClient;

export interface GitLocation {
  /** Absolute path of the working tree's root. */
  root: string;
  /** The git directory of this working tree: `<root>/.git`, or what the `.git` file names. */
  gitdir: string;
  /** Where refs, objects and config are: `gitdir` itself, or a worktree's shared repository. */
  commondir: string;
  /** The file system to give isomorphic-git together with `dir: root, gitdir`. */
  fs: GitFs;
  /** Commits at which a shallow clone's history was cut (the `shallow` file); empty for a full clone. */
  shallow: ReadonlySet<string>;
}

// Git's own list (path.c, common_list): what a linked worktree shares with the main repository. Everything else
// (HEAD, index, ORIG_HEAD, MERGE_HEAD, ...) belongs to the worktree.
const SHARED = new Set(['objects', 'refs', 'packed-refs', 'config', 'shallow', 'info', 'hooks', 'logs', 'remotes', 'branches', 'rr-cache', 'lost-found', 'svn', 'common', 'description']);
const PER_WORKTREE = ['logs/HEAD', 'refs/bisect', 'refs/worktree', 'refs/rewritten', 'info/sparse-checkout'];

function isShared(rel: string): boolean {
  if (PER_WORKTREE.some((p) => rel === p || rel.startsWith(p + '/'))) return false;
  return SHARED.has(rel.split('/')[0]);
}

/** `base` with every path under `gitdir` that git shares between worktrees moved to `commondir`. */
function worktreeFs(base: GitFs, gitdir: string, commondir: string): GitFs {
  const route = (p: unknown): unknown => {
    if (typeof p !== 'string') return p;
    const rel = path.relative(gitdir, p).split(path.sep).join('/');
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel) || !isShared(rel)) return p;
    return path.join(commondir, rel);
  };
  const promises: Record<string, (...args: unknown[]) => unknown> = {};
  for (const [name, fn] of Object.entries(base.promises as Record<string, unknown>)) {
    if (typeof fn !== 'function') continue;
    // rename and symlink take two paths; every other call takes one path first.
    promises[name] =
      name === 'rename' || name === 'symlink'
        ? (a, b, ...rest) => (fn as (...x: unknown[]) => unknown)(route(a), route(b), ...rest)
        : (a, ...rest) => (fn as (...x: unknown[]) => unknown)(route(a), ...rest);
  }
  return { promises } as unknown as GitFs;
}

function readShallow(commondir: string): Set<string> {
  try {
    return new Set(fs.readFileSync(path.join(commondir, 'shallow'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => /^[0-9a-f]{40,64}$/.test(l)));
  } catch {
    return new Set();
  }
}

/** The repository holding `filepath`, or null when there is none at or above it. Other failures are thrown. */
export async function locateGit(filepath: string, base: GitFs = fs): Promise<GitLocation | null> {
  let root: string;
  try {
    root = await git.findRoot({ fs: base, filepath: path.resolve(filepath) });
  } catch (e) {
    if ((e as { code?: string }).code === 'NotFoundError') return null;
    throw e;
  }
  const dotgit = path.join(root, '.git');
  let gitdir = dotgit;
  // A `.git` that cannot be read, or a `.git` file that names nothing, is not a repository git would use either.
  let text: string | null;
  try {
    text = fs.statSync(dotgit).isFile() ? fs.readFileSync(dotgit, 'utf8') : null;
  } catch {
    return null;
  }
  if (text !== null) {
    const m = /^gitdir:\s*(.+?)\s*$/m.exec(text);
    if (!m) return null;
    gitdir = path.resolve(root, m[1]);
  }
  let commondir = gitdir;
  try {
    commondir = path.resolve(gitdir, fs.readFileSync(path.join(gitdir, 'commondir'), 'utf8').trim());
  } catch {
    // No commondir: the git directory is a whole repository (a plain clone or a submodule).
  }
  return { root, gitdir, commondir, fs: commondir === gitdir ? base : worktreeFs(base, gitdir, commondir), shallow: readShallow(commondir) };
}
