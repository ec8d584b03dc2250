// Where declaration files come from: the working tree, or (for `kiln plan`) a git revision.
import fs from 'node:fs/promises';
import path from 'node:path';

/** Read access to a project, with project-relative POSIX paths. */
export interface ProjectHost {
  /** Absolute path of the project root (for messages and for resolving node modules). */
  readonly root: string;
  /** File contents, or undefined when there is no such file. */
  readFile(relPath: string): Promise<string | undefined>;
  /** Size in bytes, or undefined when there is no such file; lets the loader refuse huge files before reading them. */
  fileSize(relPath: string): Promise<number | undefined>;
  /** All files under a folder, recursively, as project-relative paths, sorted. */
  listFiles(relDir: string): Promise<string[]>;
  /**
   * Absolute path a project-relative path really leads to, symbolic links resolved (for a path that does not exist
   * yet, its deepest existing folder resolved and the rest appended); undefined when it cannot be told. Hosts without
   * links (a git revision) leave it out.
   */
  realPath?(relPath: string): Promise<string | undefined>;
  /** The nearest package.json at or above the root, with its "type" (Node decides ES module or CommonJS by it). */
  packageJson?(): Promise<{ path: string; type: string | null } | null>;
}

/** Folders never searched for declarations. */
export const SKIP_DIRS: ReadonlySet<string> = new Set(['node_modules', '.git', '.kiln']);

export function fsHost(root: string): ProjectHost {
  const abs = (p: string) => path.join(root, ...p.split('/'));
  return {
    root,
    async readFile(relPath) {
      try {
        return await fs.readFile(abs(relPath), 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'EISDIR') return undefined;
        throw e;
      }
    },
    async fileSize(relPath) {
      try {
        const st = await fs.stat(abs(relPath));
        return st.isFile() ? st.size : undefined;
      } catch {
        return undefined;
      }
    },
    async realPath(relPath) {
      let at = abs(relPath);
      const rest: string[] = [];
      for (;;) {
        try {
          return path.join(await fs.realpath(at), ...rest.reverse());
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code !== 'ENOENT' && code !== 'ENOTDIR') return undefined;
          if (path.dirname(at) === at) return undefined;
          rest.push(path.basename(at));
          at = path.dirname(at);
        }
      }
    },
    async packageJson() {
      for (let dir = root; ; dir = path.dirname(dir)) {
        const file = path.join(dir, 'package.json');
        try {
          const json = JSON.parse(await fs.readFile(file, 'utf8')) as { type?: unknown };
          return { path: file, type: typeof json.type === 'string' ? json.type : null };
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return { path: file, type: null };
        }
        if (path.dirname(dir) === dir) return null;
      }
    },
    async listFiles(relDir) {
      const out: string[] = [];
      const walk = async (dir: string) => {
        let entries;
        try {
          entries = await fs.readdir(abs(dir), { withFileTypes: true });
        } catch {
          return;
        }
        for (const e of entries) {
          const rel = dir ? `${dir}/${e.name}` : e.name;
          if (e.isDirectory()) {
            if (!SKIP_DIRS.has(e.name)) await walk(rel);
          } else if (e.isFile()) out.push(rel);
        }
      };
      await walk(relDir.replace(/\/+$/, ''));
      return out.sort();
    },
  };
}
