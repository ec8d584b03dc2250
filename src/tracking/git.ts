// The git stamp of a run: commit, branch, and what in the working tree differs from that commit (with a hash of it),
// read with isomorphic-git so that no git binary is needed.
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import git from './isomorphic-git.ts';
import { syncBackedFs } from './sync-fs.ts';
import { locateGit, type GitFs } from './git-location.ts';
import { hashUncommitted, type ChangedPath } from './uncommitted-hash.ts';
import { checkedOutCommit, NestedRepositories, submodulePaths } from './nested-repos.ts';
import { diag, type Diagnostic } from '../diagnostics/index.ts';

export type UncommittedStatus = 'modified' | 'added' | 'deleted' | 'untracked';

export interface UncommittedFile {
  /** Path relative to the repository root, with forward slashes. */
  path: string;
  status: UncommittedStatus;
  /** git's blob id of the working-tree content (what `git hash-object` prints; a link's target text for a symbolic
   *  link; for a repository inside the tree, such as a submodule, the commit checked out there, as git records it);
   *  null for a deleted file, one that could not be read, and runs recorded before kiln kept it. */
  blob: string | null;
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
  /** Keeps the last stamp here with a signature of the working tree (every file's size and mtime, HEAD, the index):
   *  while nothing changed, the stamp is reused instead of walking the repository's objects again. */
  cacheFile?: string;
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
  const location = await locateGit(abs, syncBackedFs as GitFs);
  if (!location) return unknown(null, null, `no git repository at or above ${abs}`);
  const { root, gitdir } = location;
  // A worktree or submodule keeps its git directory elsewhere: every call names it (see git-location.ts).
  const repo = { fs: location.fs, dir: root, gitdir };
  const cache = {};
  const branch = (await git.currentBranch({ ...repo, fullname: false })) || null;
  let commit: string;
  try {
    commit = await git.resolveRef({ ...repo, ref: 'HEAD' });
  } catch (e) {
    if ((e as { code?: string }).code === 'NotFoundError') return unknown(root, branch, `the repository at ${root} has no commits yet`);
    throw e;
  }

  const excluded = (opts.exclude ?? [])
    .map((p) => path.relative(root, path.resolve(abs, p)).split(path.sep).join('/'))
    .filter((rel) => rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel));
  const notExcluded = (file: string) => !excluded.some((ex) => file === ex || file.startsWith(ex + '/'));
  const nested = new NestedRepositories(root);
  const keep = (file: string) => notExcluded(file) && nested.holding(file) === null;

  const signature = opts.cacheFile ? await workTreeSignature(root, gitdir, commit, excluded) : null;
  if (signature && opts.cacheFile) {
    try {
      const saved = JSON.parse(fs.readFileSync(opts.cacheFile, 'utf8')) as { signature: string; stamp: GitStamp };
      if (saved.signature === signature) return { stamp: { ...saved.stamp, root, commit, branch }, diagnostics: [] };
    } catch {
      // No usable cache: stamp from the repository.
    }
  }

  // refresh: false keeps this read-only: the stamp never rewrites the user's .git/index behind their back.
  let matrix: Awaited<ReturnType<typeof git.statusMatrix>>;
  try {
    matrix = await git.statusMatrix({ ...repo, cache, filter: keep, refresh: false });
  } catch (e) {
    // A file the working tree holds but this user cannot read must not cost the run: the commit is still known.
    if (!isFileSystemError(e)) throw e;
    const stamp: GitStamp = { root, commit, branch, dirty: null, uncommitted: [], diffHash: null };
    return { stamp, diagnostics: [diag('KILN4032', { what: 'the working tree', reason: (e as Error).message, known: 'whether the tree differs from the commit is unknown' })] };
  }
  const changed: ChangedPath[] = [];
  const diagnostics: Diagnostic[] = [];
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
    changed.push({ path: file, status });
  }
  // Repositories inside the tree, as git sees them: a submodule by the commit checked out there (and the changes in
  // its own working tree), any other repository as one untracked entry. Their files were left out above.
  const submodules = new Set(submodulePaths(root).filter(notExcluded));
  for (const sub of submodules) {
    const subAbs = path.join(root, ...sub.split('/'));
    const current = await checkedOutCommit(subAbs);
    if (current === null) continue; // not checked out: nothing of it can differ
    const recorded = await gitlinkAt(repo, commit, sub, cache);
    if (recorded !== current) changed.push({ path: sub, status: recorded === null ? 'added' : 'modified', commit: current });
    const inner = await gitStamp(subAbs);
    diagnostics.push(...inner.diagnostics);
    for (const f of inner.stamp.uncommitted) changed.push({ path: `${sub}/${f.path}`, status: f.status });
  }
  for (const dir of nested.found) {
    if (submodules.has(dir) || (await git.isIgnored({ ...repo, filepath: dir }))) continue;
    changed.push({ path: dir, status: 'untracked', commit: await checkedOutCommit(path.join(root, ...dir.split('/'))) });
  }
  changed.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const hashed = changed.length ? await hashUncommitted(root, changed) : null;
  const uncommitted = hashed?.files ?? [];
  const diffHash = hashed?.diffHash ?? null;
  const stamp: GitStamp = { root, commit, branch, dirty: uncommitted.length > 0, uncommitted, diffHash };
  const repositories = new Set(changed.filter((f) => 'commit' in f).map((f) => f.path));
  const unread = uncommitted.filter((f) => f.status !== 'deleted' && f.blob === null && !repositories.has(f.path)).map((f) => f.path);
  if (unread.length) {
    const files = unread.slice(0, 5).join(', ') + (unread.length > 5 ? `, and ${unread.length - 5} more` : '');
    diagnostics.push(diag('KILN4032', { what: `${unread.length} uncommitted file(s)`, reason: files, known: 'they are listed without a blob id' }));
  }
  // Not cached with a warning: it must come again on the next run, until the files can be read.
  if (diagnostics.length) return { stamp, diagnostics };
  if (signature && opts.cacheFile) {
    try {
      fs.mkdirSync(path.dirname(opts.cacheFile), { recursive: true });
      const tmp = `${opts.cacheFile}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify({ signature, stamp }));
      fs.renameSync(tmp, opts.cacheFile);
    } catch {
      // The next run stamps from the repository again.
    }
  }
  return { stamp, diagnostics: [] };
}

const SIGNATURE_LIMIT = 50_000;

/**
 * What the stamp depends on, cheaply: HEAD, the index file, and the size and mtime of every file of the working tree
 * (node_modules, .git and the excluded folders skipped; ignored files included, so the signature is conservative).
 * Null for trees too large to walk quickly.
 */
async function workTreeSignature(root: string, gitdir: string, commit: string, excluded: string[]): Promise<string | null> {
  // The format version: a stamp saved by an older kiln lacks what this one records (each file's blob id).
  const h = createHash('sha256').update(`stamp 2\n${commit}\n`);
  try {
    const st = fs.statSync(path.join(gitdir, 'index'));
    h.update(`index ${st.size} ${st.mtimeMs}\n`);
  } catch {
    h.update('no index\n');
  }
  let count = 0;
  const nestedRoots: string[] = [];
  const walk = (rel: string): boolean => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(path.join(root, rel), { withFileTypes: true });
    } catch {
      return true;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      // A repository inside the tree changes by commits as well as by files: its HEAD counts (below).
      if (e.name === '.git' && rel !== '') nestedRoots.push(rel);
      if (e.name === '.git' || e.name === 'node_modules' || excluded.some((x) => child === x || child.startsWith(x + '/'))) continue;
      if (++count > SIGNATURE_LIMIT) return false;
      if (e.isDirectory()) {
        if (!walk(child)) return false;
      } else {
        try {
          const st = fs.lstatSync(path.join(root, child));
          h.update(`${child}\0${st.size}\0${st.mtimeMs}\n`);
        } catch {
          h.update(`${child}\0gone\n`);
        }
      }
    }
    return true;
  };
  if (!walk('')) return null;
  for (const rel of nestedRoots) h.update(`repository ${rel} ${await checkedOutCommit(path.join(root, ...rel.split('/')))}\n`);
  return h.digest('hex');
}

/** An errno failure from reading the working tree (EACCES, EIO, ELOOP...), as opposed to a bug. */
function isFileSystemError(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code);
}

/** The commit a tree records at `file` (a submodule's gitlink), or null when it records none there. */
async function gitlinkAt(repo: { fs: GitFs; dir: string; gitdir: string }, commit: string, file: string, cache: object): Promise<string | null> {
  const dir = path.posix.dirname(file);
  try {
    const { tree } = await git.readTree({ ...repo, oid: commit, filepath: dir === '.' ? undefined : dir, cache });
    const entry = tree.find((e) => e.path === path.posix.basename(file));
    return entry?.type === 'commit' ? entry.oid : null;
  } catch {
    return null;
  }
}
