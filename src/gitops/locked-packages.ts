// What an installed package is at a git revision: its entry in the package-lock.json committed there (npm's lockfile
// v2/v3 "packages" map), looked up the way Node resolves an import, from the importing module's folder upwards.
import path from 'node:path';
import type { FileSource } from './code-hash.ts';

interface LockEntry {
  version?: string;
  integrity?: string;
  resolved?: string;
  link?: boolean;
}

export interface LockedPackage {
  /** Key in the lockfile, e.g. node_modules/kiln-ml. */
  key: string;
  version: string;
  /** What names the package's content beyond its version (integrity, or where a link points); '' when nothing. */
  content: string;
}

export class LockedPackages {
  private lock: Promise<{ dir: string; packages: Record<string, LockEntry> } | null> | null = null;

  /** `projectDir`: the project's folder, repository-relative ('' at the root); the lockfile is there or above. */
  constructor(
    private readonly source: FileSource,
    private readonly projectDir: string,
  ) {}

  private load(): Promise<{ dir: string; packages: Record<string, LockEntry> } | null> {
    this.lock ??= (async () => {
      for (let dir = this.projectDir; ; dir = path.posix.dirname(dir)) {
        const d = dir === '.' ? '' : dir;
        const bytes = await this.source.read(d ? `${d}/package-lock.json` : 'package-lock.json');
        if (bytes !== undefined) {
          try {
            const json = JSON.parse(Buffer.from(bytes).toString('utf8')) as { packages?: Record<string, LockEntry> };
            return json.packages && typeof json.packages === 'object' ? { dir: d, packages: json.packages } : null;
          } catch {
            // An unreadable lockfile locks nothing: installed versions are used, as for a project without one.
            return null;
          }
        }
        if (!d) return null;
      }
    })();
    return this.lock;
  }

  /** The folder of the lockfile (repository-relative), or null when this revision has none. */
  async lockDir(): Promise<string | null> {
    return (await this.load())?.dir ?? null;
  }

  /** The locked package `name` for an import from `fromDir` (relative to the lockfile's folder); null when not locked. */
  async find(fromDir: string, name: string): Promise<LockedPackage | null> {
    const lock = await this.load();
    if (!lock) return null;
    for (let dir = fromDir === '.' ? '' : fromDir; ; dir = path.posix.dirname(dir) === '.' ? '' : path.posix.dirname(dir)) {
      if (path.posix.basename(dir) !== 'node_modules') {
        const key = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`;
        const entry = lock.packages[key];
        if (entry) {
          // A link (a workspace, `npm install ../dir`) carries its version on the entry of the folder it points to.
          const target = entry.link && entry.resolved ? lock.packages[entry.resolved] : undefined;
          return { key, version: target?.version ?? entry.version ?? '', content: entry.link ? `link:${entry.resolved ?? ''}` : (entry.integrity ?? entry.resolved ?? '') };
        }
      }
      if (!dir) return null;
    }
  }
}
