// The code hash of a node module at a revision: the module and the project files it imports, bundled by esbuild
// from a file source (a commit's tree, or the working tree) and hashed with the packages it imports, as locked there. Both sides of a plan are bundled the same
// way, through the same plugin, so equal code gives equal bundles whichever side it was read from.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { kilnPackage, kilnSubpath, kilnVersion } from '../version.ts';
import { build, type Loader, type Plugin } from 'esbuild';
import type { GitTree, Repository } from './git-host.ts';
import { repoPath } from './git-host.ts';
import { kilnEntry, kilnRoot } from '../runtime/kiln-self.ts';
import { installedPackage, packageOf } from '../runtime/installed-package.ts';
import { LockedPackages } from './locked-packages.ts';

/** Read access to files by repository-relative path. */
export interface FileSource {
  read(repoRel: string): Promise<Uint8Array | undefined>;
  /** The files under a folder (repository-relative paths, sorted); none when there is no such folder. */
  list(repoRelDir: string): Promise<string[]>;
}

export function treeSource(tree: GitTree): FileSource {
  return {
    read: (p) => tree.read(p),
    list: async (dir) => [...tree.files.keys()].filter((p) => p.startsWith(`${dir}/`)).sort(),
  };
}

export function directorySource(dir: string): FileSource {
  return {
    async list(rel) {
      try {
        const entries = await fs.readdir(path.join(dir, ...rel.split('/')), { recursive: true, withFileTypes: true });
        return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/')).sort();
      } catch {
        return [];
      }
    },
    async read(rel) {
      try {
        const abs = path.join(dir, ...rel.split('/'));
        if (!(await fs.stat(abs)).isFile()) return undefined;
        return await fs.readFile(abs);
      } catch {
        return undefined;
      }
    },
  };
}

const LOADERS: Record<string, Loader> = { '.ts': 'ts', '.mts': 'ts', '.cts': 'ts', '.tsx': 'tsx', '.js': 'js', '.mjs': 'js', '.cjs': 'js', '.jsx': 'jsx', '.json': 'json' };
const SUFFIXES = ['', '.ts', '.tsx', '.mts', '.js', '.mjs', '.cjs', '.json', '/index.ts', '/index.tsx', '/index.js', '/index.mjs'];

function candidates(target: string): string[] {
  const out = SUFFIXES.map((s) => target + s);
  // TypeScript's habit: import './x.js' meaning ./x.ts.
  const swapped = /\.(m|c)?js$/.exec(target);
  if (swapped) out.unshift(target.slice(0, -swapped[0].length) + `.${swapped[1] ?? ''}ts`, target.slice(0, -swapped[0].length) + '.tsx');
  return out;
}

export type CodeHash = { hash: string } | { error: string };

/** Whether kiln's own folder is part of the repository (kiln's flagship), rather than a package installed in it. */
function kilnInside(repo: Repository): string | null {
  const rel = path.relative(repo.dir, kilnRoot);
  if (rel.startsWith('..') || path.isAbsolute(rel) || rel.split(path.sep).includes('node_modules')) return null;
  return rel.split(path.sep).join('/');
}

/**
 * Hashes node modules of one side of a plan. `source` reads the repository's files at that side. Packages are hashed
 * as what they are at that side: their version in its package-lock.json (the installed one where it locks none), as a
 * run hashes their installed version. Imports of kiln resolve to kiln's sources: read from the same side when the
 * repository is kiln itself (the flagship), else from the running kiln, the same for both sides as at run time,
 * unless that side locks another version of kiln, which then stands for its code.
 */
export class CodeHasher {
  private readonly hashes = new Map<string, Promise<CodeHash>>();
  private readonly kilnInRepo: string | null;
  private readonly kilnFiles = directorySource(kilnRoot);
  private readonly locked: LockedPackages;

  constructor(
    private readonly repo: Repository,
    private readonly source: FileSource,
  ) {
    this.kilnInRepo = kilnInside(repo);
    this.locked = new LockedPackages(source, repo.prefix ?? '');
  }

  /** The hash of a project-relative node module, or why it could not be bundled. */
  hash(module: string): Promise<CodeHash> {
    let h = this.hashes.get(module);
    if (!h) {
      h = this.bundle(repoPath(this.repo, module));
      this.hashes.set(module, h);
    }
    return h;
  }

  private reader(namespace: string): FileSource {
    return namespace === 'kiln' ? this.kilnFiles : this.source;
  }

  /** The folder of an importing module: repository-relative and on disk. */
  private async importerDirs(namespace: string, importer: string): Promise<{ lockRel: string | null; disk: string }> {
    const dir = path.posix.dirname(importer);
    const disk = namespace === 'kiln' ? path.join(kilnRoot, dir) : path.join(this.repo.dir, dir);
    const lockDir = await this.locked.lockDir();
    if (lockDir === null) return { lockRel: null, disk };
    const rel = path.relative(path.join(this.repo.dir, lockDir), disk).split(path.sep).join('/');
    return { lockRel: rel.startsWith('..') || path.isAbsolute(rel) ? null : rel, disk };
  }

  /** What a package stands for in the hash at this side, and whether it is kiln at the running kiln's version. */
  private async packageIdentity(namespace: string, importer: string, name: string): Promise<{ id: string; runningKiln: boolean }> {
    const { lockRel, disk } = await this.importerDirs(namespace, importer);
    const locked = lockRel === null ? null : await this.locked.find(lockRel, name);
    if (name === kilnPackage && (locked === null || locked.version === kilnVersion)) return { id: `${name}@${kilnVersion}`, runningKiln: true };
    if (locked) return { id: `${name}@${locked.version} ${locked.content}`, runningKiln: false };
    const installed = installedPackage(disk, name);
    return { id: installed ? `${name}@${installed.version}` : `${name} (not installed)`, runningKiln: false };
  }

  private async bundle(entry: string): Promise<CodeHash> {
    const self = this;
    const packages = new Set<string>();
    const plugin: Plugin = {
      name: 'kiln-revision',
      setup(b) {
        b.onResolve({ filter: /.*/ }, async (args) => {
          if (args.kind === 'entry-point') return { path: path.posix.normalize(args.path), namespace: 'repo' };
          const spec = args.path;
          const inRepo = args.namespace === 'repo' || args.namespace === 'kiln';
          const self_ = kilnSubpath(spec);
          if (self_ !== undefined) {
            // kiln's own repository: its sources at that revision (the build is not committed). Elsewhere: the code
            // the running kiln executes, the same for both sides.
            const sub = self_ === null ? 'index.ts' : `${self_}/index.ts`;
            if (self.kilnInRepo !== null) return { path: path.posix.join(self.kilnInRepo, 'src', sub), namespace: 'repo' };
            const kiln = await self.packageIdentity(args.namespace, args.importer, kilnPackage);
            packages.add(kiln.id);
            return kiln.runningKiln ? { path: kilnEntry(self_), namespace: 'kiln' } : { path: spec, external: true };
          }
          const pkg = packageOf(spec);
          if (pkg !== null && inRepo) {
            packages.add((await self.packageIdentity(args.namespace, args.importer, pkg)).id);
            return { path: spec, external: true };
          }
          if (!/^\.\.?(\/|$)/.test(spec) || !inRepo) return { path: spec, external: true };
          const target = path.posix.normalize(path.posix.join(path.posix.dirname(args.importer), spec));
          if (target.startsWith('../')) return { path: spec, external: true };
          const from = self.reader(args.namespace);
          for (const c of candidates(target)) if ((await from.read(c)) !== undefined) return { path: c, namespace: args.namespace };
          return { path: spec, external: true };
        });
        b.onLoad({ filter: /.*/ }, async (args) => {
          const bytes = await self.reader(args.namespace).read(args.path);
          if (bytes === undefined) return { errors: [{ text: `${args.path} does not exist at this revision` }] };
          return { contents: bytes, loader: LOADERS[path.posix.extname(args.path)] ?? 'text' };
        });
      },
    };
    try {
      const result = await build({ entryPoints: [entry], bundle: true, write: false, format: 'esm', platform: 'node', plugins: [plugin], logLevel: 'silent', legalComments: 'none', target: 'node20', outdir: 'out' });
      const h = createHash('sha256');
      for (const f of result.outputFiles) h.update(f.contents);
      for (const p of [...packages].sort()) h.update(`\0package ${p}`);
      return { hash: h.digest('hex') };
    } catch (e) {
      const errors = (e as { errors?: Array<{ text: string }> }).errors;
      return { error: errors?.length ? errors.map((x) => x.text).join('; ') : (e as Error).message };
    }
  }
}
