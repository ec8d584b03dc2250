// Where a file dataset reads and writes: its catalog path, or with `versioned: true` the Kedro layout
// `<path>/<version>/<basename>`, where a load takes the newest version folder or the pinned one.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { DatasetIR } from '../../ir/types.ts';
import { diag, didYouMean, isKilnError, KilnError } from '../../diagnostics/index.ts';
import { resolveDatasetPath } from '../paths.ts';
import { dirForRead } from '../atomic.ts';
import type { DatasetEnv } from './types.ts';

/** A version folder name: one path segment that sorts by time (see `newSaveVersion`). */
const VERSION_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** A save version for a run, Kedro style (`2024-05-01T12.30.05.123Z`): UTC, sorts as text in time order. */
export function newSaveVersion(now: Date = new Date()): string {
  return now.toISOString().replace(/:/g, '.');
}

async function kindOf(p: string): Promise<'file' | 'dir' | null> {
  try {
    const s = await stat(p);
    return s.isDirectory() ? 'dir' : 'file';
  } catch {
    return null;
  }
}

export class DatasetLocation {
  /** Absolute catalog path (a file, a folder, or with versioning the folder of versions). */
  readonly base: string;
  readonly versioned: boolean;
  private readonly basename: string;
  /** Set once this object has saved: its own save is then what an unpinned load reads, whatever else is newer. */
  private saved = false;

  constructor(
    private readonly entry: DatasetIR,
    private readonly env: DatasetEnv,
    /** Whether the dataset is a folder (partitioned, tfjs_model) rather than a file. */
    readonly folder: boolean,
  ) {
    if (entry.path === undefined || entry.path === '') throw new KilnError(diag('KILN3101', { type: entry.type, dataset: entry.name }, entry.location));
    this.base = resolveDatasetPath(env.root, entry.path, env.allowedPaths, { dataset: entry.name, location: entry.location });
    this.versioned = entry.versioned;
    this.basename = path.basename(this.base);
    if (this.versioned && !VERSION_NAME.test(env.saveVersion)) {
      throw new Error(`internal error: save version '${env.saveVersion}' is not a folder name; this is a bug in kiln's runner, please report it`);
    }
  }

  /** The path a save writes. */
  savePath(): string {
    return this.versioned ? path.join(this.base, this.env.saveVersion, this.basename) : this.base;
  }

  /** Records that a save to `savePath()` succeeded. */
  markSaved(): void {
    this.saved = true;
  }

  /** Saved versions, newest first: version folders that hold a complete save. */
  async versions(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.base);
    } catch {
      return [];
    }
    const found: string[] = [];
    for (const name of names) {
      if (!VERSION_NAME.test(name)) continue;
      const p = path.join(this.base, name, this.basename);
      const kind = this.folder ? ((await dirForRead(p)) ? 'dir' : null) : await kindOf(p);
      if (kind === (this.folder ? 'dir' : 'file')) found.push(name);
    }
    return found.sort().reverse();
  }

  /** The version a load reads: the pinned one (KILN3103 when it was never saved), else the newest; null if none. */
  async loadVersion(): Promise<string | null> {
    const pinned = this.env.loadVersion;
    const versions = await this.versions();
    // A version folder from a clock ahead of this machine's would otherwise shadow what this run just wrote.
    if (pinned === undefined) return this.saved && versions.includes(this.env.saveVersion) ? this.env.saveVersion : (versions[0] ?? null);
    if (versions.includes(pinned)) return pinned;
    const shown = versions.length === 0 ? '(none)' : versions.slice(0, 10).join(', ') + (versions.length > 10 ? `, and ${versions.length - 10} older` : '');
    throw new KilnError(diag('KILN3103', { dataset: this.entry.name, version: pinned, suggestion: didYouMean(pinned, versions), available: shown }, this.entry.location));
  }

  /** The path a load reads, or null when nothing is saved there. */
  async loadPath(): Promise<string | null> {
    let p = this.base;
    if (this.versioned) {
      const v = await this.loadVersion();
      if (v === null) return null;
      p = path.join(this.base, v, this.basename);
    }
    if (this.folder) return dirForRead(p);
    return (await kindOf(p)) === 'file' ? p : null;
  }

  /** Whether a load would find something; false (not an error) for a pinned version that was never saved. */
  async exists(): Promise<boolean> {
    try {
      return (await this.loadPath()) !== null;
    } catch (e) {
      if (isKilnError(e) && e.diagnostics.some((d) => d.code === 'KILN3103')) return false;
      throw e;
    }
  }

  /**
   * KILN3111 when what is at the catalog path cannot be this dataset's: a folder where a file belongs, a file where
   * a folder belongs (a folder of versions, or a model or partitions folder). Nothing there is fine.
   */
  async checkShape(): Promise<void> {
    const kind = await kindOf(this.base);
    if (kind === null) return;
    const want = this.versioned || this.folder ? 'dir' : 'file';
    if (kind === want) return;
    const what = this.versioned
      ? `a versioned dataset keeps a folder of versions there (${this.entry.path}/<version>/${this.basename})`
      : this.folder
        ? `a ${this.entry.type} dataset is a folder`
        : `a ${this.entry.type} dataset is a single file (a folder of versions there means the entry was versioned)`;
    throw new KilnError(diag('KILN3111', { path: this.entry.path, dataset: this.entry.name, actual: kind === 'dir' ? 'folder' : 'file', what }, this.entry.location));
  }

  /** The path a load reads; KILN3102 when nothing was saved (KILN3111 when the path holds something else). */
  async requireLoadPath(): Promise<string> {
    const p = await this.loadPath();
    if (p !== null) return p;
    await this.checkShape();
    const rel = this.display(this.base);
    const why = this.versioned ? `no version of it was saved under ${rel}/` : `${rel} does not exist`;
    throw new KilnError(diag('KILN3102', { dataset: this.entry.name, why, fix: 'Run the pipeline that produces it first, or put the data at that path.' }, this.entry.location));
  }

  /** `p` as shown to people: relative to the project root when inside it. */
  display(p: string): string {
    const rel = path.relative(this.env.root, p);
    return rel.startsWith('..') || path.isAbsolute(rel) ? p : rel.split(path.sep).join('/');
  }

  describeVersion(): { load: string | null; save: string } | undefined {
    return this.versioned ? { load: this.env.loadVersion ?? null, save: this.env.saveVersion } : undefined;
  }
}
