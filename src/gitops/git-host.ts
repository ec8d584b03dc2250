// Reading a project at a git revision straight from git objects (isomorphic-git, no checkout, no git binary):
// the repository around a project, revisions (branch, tag, sha, ~N, ^), the merge base with the main branch,
// and a ProjectHost over a commit's tree so that the compiler front half can analyze that revision.
import path from 'node:path';
import type { PromiseFsClient } from 'isomorphic-git';
import git from '../tracking/isomorphic-git.ts';
import { diag, KilnError } from '../diagnostics/diagnostic.ts';
import { locateGit } from '../tracking/git-location.ts';
import { didYouMean } from '../diagnostics/didyoumean.ts';
import { SKIP_DIRS, type ProjectHost } from '../config/host.ts';

export interface Repository {
  /** Absolute path of the working tree's root. */
  dir: string;
  /** What every isomorphic-git call is given: the working tree, its git directory (elsewhere for a worktree or a
   *  submodule) and a file system that finds a worktree's shared refs and objects (see tracking/git-location.ts). */
  git: { fs: PromiseFsClient; dir: string; gitdir: string };
  /** Commits where a shallow clone's history stops; empty for a full clone. */
  shallow: ReadonlySet<string>;
  /** The project root relative to `dir`, POSIX, '' when they are the same folder. */
  prefix: string;
  /** Absolute project root. */
  projectRoot: string;
  /** isomorphic-git's object cache, shared by every read of this repository. */
  cache: object;
}

const toPosix = (p: string) => p.split(path.sep).join('/');

const isNotFound = (e: unknown) => (e as { code?: string }).code === 'NotFoundError';

/** In a shallow clone, a commit or object that is not there is history that was not fetched: KILN7030 says how to fetch it. */
function outsideShallowHistory(what: string, reason: string): KilnError {
  return new KilnError(diag('KILN7030', { what, reason }));
}

/** Reads a commit; in a shallow clone, a missing one is KILN7030 instead of isomorphic-git's NotFoundError. */
async function readCommitOf(repo: Repository, oid: string, what: string) {
  try {
    return (await git.readCommit({ ...repo.git, oid, cache: repo.cache })).commit;
  } catch (e) {
    if (repo.shallow.size && isNotFound(e)) throw outsideShallowHistory(what, `commit ${oid.slice(0, 7)} was not fetched`);
    throw e;
  }
}

/** The repository holding `projectRoot`; KILN7001 outside one. */
export async function openRepository(projectRoot: string, command: string): Promise<Repository> {
  const abs = path.resolve(projectRoot);
  const location = await locateGit(abs).catch(() => null);
  if (!location) throw new KilnError(diag('KILN7001', { command, reason: `no git repository at or above ${abs}` }));
  const dir = location.root;
  return { dir, git: { fs: location.fs, dir, gitdir: location.gitdir }, shallow: location.shallow, prefix: toPosix(path.relative(dir, abs)), projectRoot: abs, cache: {} };
}

export async function headCommit(repo: Repository, command: string): Promise<string> {
  try {
    return await git.resolveRef({ ...repo.git, ref: 'HEAD' });
  } catch {
    throw new KilnError(diag('KILN7001', { command, reason: `the repository at ${repo.dir} has no commits yet` }));
  }
}

/** The short name of the checked-out branch, or null when HEAD is detached. */
export async function currentBranch(repo: Repository): Promise<string | null> {
  return (await git.currentBranch({ ...repo.git, fullname: false })) || null;
}

/** Peels annotated tags down to the commit they name; null when `oid` names no commit. */
async function peelToCommit(repo: Repository, oid: string): Promise<string | null> {
  for (let depth = 0; depth < 8; depth++) {
    try {
      await git.readCommit({ ...repo.git, oid, cache: repo.cache });
      return oid;
    } catch {
      try {
        oid = (await git.readTag({ ...repo.git, oid, cache: repo.cache })).tag.object;
      } catch {
        return null;
      }
    }
  }
  return null;
}

async function knownRefNames(repo: Repository): Promise<string[]> {
  const names = new Set<string>(['HEAD']);
  const safe = async <T>(p: Promise<T[]>) => p.catch(() => [] as T[]);
  for (const b of await safe(git.listBranches(repo.git))) names.add(b);
  for (const remote of await safe(git.listRemotes(repo.git))) {
    for (const b of await safe(git.listBranches({ ...repo.git, remote: remote.remote }))) if (b !== 'HEAD') names.add(`${remote.remote}/${b}`);
  }
  for (const t of await safe(git.listTags(repo.git))) names.add(t);
  return [...names].sort();
}

async function resolveName(repo: Repository, name: string): Promise<string | null> {
  try {
    const oid = await git.resolveRef({ ...repo.git, ref: name === 'HEAD' ? 'HEAD' : await git.expandRef({ ...repo.git, ref: name }) });
    return await peelToCommit(repo, oid);
  } catch {
    // not a ref name: maybe a (prefix of a) commit id
  }
  if (/^[0-9a-f]{4,40}$/i.test(name)) {
    try {
      return await peelToCommit(repo, await git.expandOid({ ...repo.git, oid: name.toLowerCase(), cache: repo.cache }));
    } catch {
      // A commit id that is not here may well be one the shallow clone did not fetch.
      if (repo.shallow.size && name.length >= 7) throw outsideShallowHistory(`'${name}'`, `no commit ${name} among the fetched ones`);
      return null;
    }
  }
  return null;
}

/** The commit a revision names: a branch, tag, remote branch or (prefix of a) sha, then any `~N`, `^` and `^N`. */
export async function resolveRevision(repo: Repository, ref: string): Promise<string> {
  const m = /^(.+?)((?:[~^]\d*)*)$/.exec(ref.trim());
  const unknown = async () => {
    const known = await knownRefNames(repo);
    return new KilnError(diag('KILN7002', { ref, suggestion: didYouMean(m?.[1] ?? ref, known).replace(/^ did/, ' Did'), known: known.filter((k) => !k.includes('/') || k.startsWith('origin/')).slice(0, 12).join(', ') || '(none)' }));
  };
  if (!m) throw await unknown();
  const start = await resolveName(repo, m[1]);
  if (!start) throw await unknown();
  let oid: string = start;
  // A shallow commit still names its parents, but they were not fetched: stepping past it leaves the history.
  const parentsOf = async (c: string) => {
    if (repo.shallow.has(c)) throw outsideShallowHistory(`'${ref}'`, `the fetched history stops at ${c.slice(0, 7)}`);
    return (await readCommitOf(repo, c, `'${ref}'`)).parent;
  };
  for (const step of m[2].match(/[~^]\d*/g) ?? []) {
    const n = step.length > 1 ? Number(step.slice(1)) : 1;
    if (step[0] === '~') {
      let cur: string = oid;
      for (let i = 0; i < n; i++) {
        const parents = await parentsOf(cur);
        if (!parents[0]) throw await unknown();
        cur = parents[0];
      }
      oid = cur;
    } else {
      if (n === 0) continue;
      const p = (await parentsOf(oid))[n - 1];
      if (!p) throw await unknown();
      oid = p;
    }
  }
  return oid;
}

/** The tips of the main branch: the local branch, then the remote-tracking one (CI checkouts have only origin/<main>). */
export async function mainBranchTips(repo: Repository, main: string): Promise<Array<{ ref: string; commit: string }>> {
  const candidates = [`refs/heads/${main}`, `refs/remotes/origin/${main}`];
  if (main.includes('/')) candidates.push(`refs/remotes/${main}`);
  const out: Array<{ ref: string; commit: string }> = [];
  for (const ref of candidates) {
    try {
      const commit = await peelToCommit(repo, await git.resolveRef({ ...repo.git, ref }));
      if (commit) out.push({ ref: ref.replace(/^refs\/(heads|remotes)\//, ''), commit });
    } catch {
      // no such ref
    }
  }
  return out;
}

/** Where HEAD left the main branch: the merge base of `head` and the main branch's tip (KILN7003 when there is none). */
export async function mergeBaseWithMain(repo: Repository, head: string, main: string): Promise<{ commit: string; label: string }> {
  const [tip] = await mainBranchTips(repo, main);
  if (!tip) throw new KilnError(diag('KILN7003', { main, reason: `there is no branch '${main}' (nor origin/${main}) in ${repo.dir}` }));
  const what = `the merge base of HEAD and ${tip.ref}`;
  let bases: string[];
  try {
    bases = (await git.findMergeBase({ ...repo.git, oids: [head, tip.commit], cache: repo.cache })) as string[];
  } catch (e) {
    if (repo.shallow.size && isNotFound(e)) throw outsideShallowHistory(what, 'a commit on the way to it was not fetched');
    throw e;
  }
  if (!bases.length && repo.shallow.size) throw outsideShallowHistory(what, `the fetched histories of HEAD and ${tip.ref} do not meet`);
  if (!bases.length) throw new KilnError(diag('KILN7003', { main, reason: `HEAD and ${tip.ref} share no history` }));
  const base = bases.sort()[0];
  return { commit: base, label: base === tip.commit ? tip.ref : `merge base with ${tip.ref}` };
}

/** Every file of a commit (repository-relative path → blob id), read once; blobs are read on demand and kept. */
export class GitTree {
  private readonly blobs = new Map<string, Promise<Uint8Array>>();

  private constructor(
    readonly repo: Repository,
    readonly commit: string,
    readonly files: ReadonlyMap<string, string>,
  ) {}

  static async load(repo: Repository, commit: string): Promise<GitTree> {
    const files = new Map<string, string>();
    const walk = async (treeOid: string, prefix: string) => {
      const { tree } = await git.readTree({ ...repo.git, oid: treeOid, cache: repo.cache });
      for (const e of tree) {
        const p = prefix ? `${prefix}/${e.path}` : e.path;
        if (e.type === 'tree') await walk(e.oid, p);
        else if (e.type === 'blob') files.set(p, e.oid);
      }
    };
    await walk((await readCommitOf(repo, commit, `commit ${commit.slice(0, 7)}`)).tree, '');
    return new GitTree(repo, commit, files);
  }

  /** Bytes of a repository-relative file, or undefined when the commit has no such file. */
  read(repoPath: string): Promise<Uint8Array | undefined> {
    const oid = this.files.get(repoPath);
    if (oid === undefined) return Promise.resolve(undefined);
    let p = this.blobs.get(oid);
    if (!p) {
      p = git.readBlob({ ...this.repo.git, oid, cache: this.repo.cache }).then((r) => r.blob);
      this.blobs.set(oid, p);
    }
    return p;
  }

  /** The blob id of a repository-relative file, or undefined. */
  blobId(repoPath: string): string | undefined {
    return this.files.get(repoPath);
  }
}

/** Project-relative path → repository-relative path. */
export function repoPath(repo: Repository, rel: string): string {
  return repo.prefix ? path.posix.join(repo.prefix, rel) : path.posix.normalize(rel);
}

/** The project as it is in `tree`: what `analyzeProject` reads for the base side of a plan. */
export function gitProjectHost(tree: GitTree): ProjectHost {
  const repo = tree.repo;
  const decoder = new TextDecoder();
  return {
    root: repo.projectRoot,
    async readFile(rel) {
      const bytes = await tree.read(repoPath(repo, rel));
      return bytes === undefined ? undefined : decoder.decode(bytes);
    },
    async fileSize(rel) {
      return (await tree.read(repoPath(repo, rel)))?.byteLength;
    },
    async listFiles(relDir) {
      const dir = relDir.replace(/\/+$/, '');
      const under = repoPath(repo, dir || '.');
      const prefix = under === '.' ? '' : `${under}/`;
      const out: string[] = [];
      for (const p of tree.files.keys()) {
        if (!p.startsWith(prefix)) continue;
        const projectRel = repo.prefix ? p.slice(repo.prefix.length + 1) : p;
        if (projectRel.split('/').slice(0, -1).some((seg) => SKIP_DIRS.has(seg))) continue;
        out.push(projectRel);
      }
      return out.sort();
    },
  };
}
