// Repositories inside a working tree: submodules, worktrees and clones kept in a subfolder. Git does not look into
// them: their content is theirs, and what the outer repository records of one is the commit checked out there (a
// gitlink). The stamp does the same, so that a submodule moved to another commit makes the tree dirty, and the files
// of a clone inside the tree are neither read nor hashed one by one.
import fs from 'node:fs';
import path from 'node:path';
import git from './isomorphic-git.ts';
import { syncBackedFs } from './sync-fs.ts';
import { locateGit, type GitFs } from './git-location.ts';

/** The commit checked out in the repository at `abs`; null when there is none (or no repository). */
export async function checkedOutCommit(abs: string): Promise<string | null> {
  const location = await locateGit(abs, syncBackedFs as GitFs).catch(() => null);
  if (!location || location.root !== abs) return null;
  try {
    return await git.resolveRef({ fs: location.fs, dir: abs, gitdir: location.gitdir, ref: 'HEAD' });
  } catch {
    return null;
  }
}

/** Finds, for files of the working tree at `root`, the nested repository holding them (found lazily, remembered). */
export class NestedRepositories {
  private readonly isRepo = new Map<string, boolean>();
  /** Repository-relative folders found to be repositories of their own. */
  readonly found = new Set<string>();

  constructor(private readonly root: string) {}

  /** The folder of the nested repository holding `file` (repository-relative, POSIX), or null. */
  holding(file: string): string | null {
    const parts = file.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      let repo = this.isRepo.get(dir);
      if (repo === undefined) {
        repo = fs.existsSync(path.join(this.root, ...parts.slice(0, i), '.git'));
        this.isRepo.set(dir, repo);
        if (repo) this.found.add(dir);
      }
      if (repo) return dir;
    }
    return null;
  }
}

/** Submodule folders named by `.gitmodules` at the root (repository-relative); empty without one. */
export function submodulePaths(root: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(path.join(root, '.gitmodules'), 'utf8');
  } catch {
    return [];
  }
  return [...text.matchAll(/^\s*path\s*=\s*(.+?)\s*$/gm)].map((m) => m[1].replace(/\/+$/, ''));
}
