// Reading a project at a git revision straight from git objects (isomorphic-git, no checkout, no git binary):
// the repository around a project, revisions (branch, tag, sha, ~N, ^), the merge base with the main branch,
// and a ProjectHost over a commit's tree so that the compiler front half can analyze that revision.
import fs from 'node:fs';
import path from 'node:path';
import git from 'isomorphic-git';
import { diag, KilnError } from '../diagnostics/diagnostic.ts';
import { didYouMean } from '../diagnostics/didyoumean.ts';
import { SKIP_DIRS, type ProjectHost } from '../config/host.ts';

export interface Repository {
  /** Absolute path of the working tree's root. */
  dir: string;
  /** The project root relative to `dir`, POSIX, '' when they are the same folder. */
  prefix: string;
  /** Absolute project root. */
  projectRoot: string;
  /** isomorphic-git's object cache, shared by every read of this repository. */
  cache: object;
}

const toPosix = (p: string) => p.split(path.sep).join('/');

/** The repository holding `projectRoot`; KILN7001 outside one. */
export async function openRepository(projectRoot: string, command: string): Promise<Repository> {
  const abs = path.resolve(projectRoot);
  let dir: string;
  try {
    dir = await git.findRoot({ fs, filepath: abs });
  } catch {
    throw new KilnError(diag('KILN7001', { command, reason: `no git repository at or above ${abs}` }));
  }
  return { dir, prefix: toPosix(path.relative(dir, abs)), projectRoot: abs, cache: {} };
}

export async function headCommit(repo: Repository, command: string): Promise<string> {
  try {
    return await git.resolveRef({ fs, dir: repo.dir, ref: 'HEAD' });
  } catch {
    throw new KilnError(diag('KILN7001', { command, reason: `the repository at ${repo.dir} has no commits yet` }));
  }
}

/** The short name of the checked-out branch, or null when HEAD is detached. */
export async function currentBranch(repo: Repository): Promise<string | null> {
  return (await git.currentBranch({ fs, dir: repo.dir, fullname: false })) || null;
}

/** Peels annotated tags down to the commit they name; null when `oid` names no commit. */
async function peelToCommit(repo: Repository, oid: string): Promise<string | null> {
  for (let depth = 0; depth < 8; depth++) {
    try {
      await git.readCommit({ fs, dir: repo.dir, oid, cache: repo.cache });
      return oid;
    } catch {
      try {
        oid = (await git.readTag({ fs, dir: repo.dir, oid, cache: repo.cache })).tag.object;
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
  for (const b of await safe(git.listBranches({ fs, dir: repo.dir }))) names.add(b);
  for (const remote of await safe(git.listRemotes({ fs, dir: repo.dir }))) {
    for (const b of await safe(git.listBranches({ fs, dir: repo.dir, remote: remote.remote }))) if (b !== 'HEAD') names.add(`${remote.remote}/${b}`);
  }
  for (const t of await safe(git.listTags({ fs, dir: repo.dir }))) names.add(t);
  return [...names].sort();
}

async function resolveName(repo: Repository, name: string): Promise<string | null> {
  try {
    const oid = await git.resolveRef({ fs, dir: repo.dir, ref: name === 'HEAD' ? 'HEAD' : await git.expandRef({ fs, dir: repo.dir, ref: name }) });
    return await peelToCommit(repo, oid);
  } catch {
    // not a ref name: maybe a (prefix of a) commit id
  }
  if (/^[0-9a-f]{4,40}$/i.test(name)) {
    try {
      return await peelToCommit(repo, await git.expandOid({ fs, dir: repo.dir, oid: name.toLowerCase(), cache: repo.cache }));
    } catch {
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
  for (const step of m[2].match(/[~^]\d*/g) ?? []) {
    const n = step.length > 1 ? Number(step.slice(1)) : 1;
    const { commit } = await git.readCommit({ fs, dir: repo.dir, oid, cache: repo.cache });
    if (step[0] === '~') {
      let cur: string = oid;
      let parents: string[] = commit.parent;
      for (let i = 0; i < n; i++) {
        if (!parents[0]) throw await unknown();
        cur = parents[0];
        parents = (await git.readCommit({ fs, dir: repo.dir, oid: cur, cache: repo.cache })).commit.parent;
      }
      oid = cur;
    } else {
      if (n === 0) continue;
      const p = commit.parent[n - 1];
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
      const commit = await peelToCommit(repo, await git.resolveRef({ fs, dir: repo.dir, ref }));
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
  const bases = (await git.findMergeBase({ fs, dir: repo.dir, oids: [head, tip.commit], cache: repo.cache })) as string[];
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
      const { tree } = await git.readTree({ fs, dir: repo.dir, oid: treeOid, cache: repo.cache });
      for (const e of tree) {
        const p = prefix ? `${prefix}/${e.path}` : e.path;
        if (e.type === 'tree') await walk(e.oid, p);
        else if (e.type === 'blob') files.set(p, e.oid);
      }
    };
    const { commit: c } = await git.readCommit({ fs, dir: repo.dir, oid: commit, cache: repo.cache });
    await walk(c.tree, '');
    return new GitTree(repo, commit, files);
  }

  /** Bytes of a repository-relative file, or undefined when the commit has no such file. */
  read(repoPath: string): Promise<Uint8Array | undefined> {
    const oid = this.files.get(repoPath);
    if (oid === undefined) return Promise.resolve(undefined);
    let p = this.blobs.get(oid);
    if (!p) {
      p = git.readBlob({ fs, dir: this.repo.dir, oid, cache: this.repo.cache }).then((r) => r.blob);
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
