// What every dataset stored at a path shares: where it reads and writes (with versions), existence, its files,
// its description, and how a bad file or a bad value is reported.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { DatasetIR } from '../../ir/types.ts';
import { diag, KilnError } from '../../diagnostics/index.ts';
import { isAtomicTemp, removeStaleTemps } from '../atomic.ts';
import { rethrowDatasetFull } from '../../tracking/disk-full.ts';
import { DatasetLocation } from './location.ts';
import type { Dataset, DatasetDescription, DatasetEnv } from './types.ts';

/** Regular files under `dir`, recursively, absolute and sorted; dot-files and leftover temporaries are skipped. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    const entries = await readdir(d, { withFileTypes: true });
    for (const e of entries) {
      if (e.name.startsWith('.') || isAtomicTemp(e.name)) continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  await walk(dir);
  return out.sort();
}

/** A short name for the kind of a value, for messages ("a string", "an array", "undefined"). */
export function kindOfValue(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Uint8Array) return 'a byte array';
  if (typeof v === 'object') return `an object${v.constructor && v.constructor.name !== 'Object' ? ` (${v.constructor.name})` : ''}`;
  return `a ${typeof v}`;
}

export abstract class FileDataset<T> implements Dataset<T> {
  /** Where the dataset reads and writes; public for the cache layer, which snapshots and restores the files itself. */
  readonly location: DatasetLocation;

  constructor(
    protected readonly entry: DatasetIR,
    protected readonly env: DatasetEnv,
    folder = false,
  ) {
    this.location = new DatasetLocation(entry, env, folder);
  }

  /** Reads the value from `file` (a folder for folder datasets). */
  protected abstract read(file: string): Promise<T>;
  /** Writes `value` to `file` atomically. */
  protected abstract write(file: string, value: T): Promise<void>;

  /** Reads `file` itself, not the catalog path (a partitioned dataset reads each partition file with it). */
  readAt(file: string): Promise<T> {
    return this.read(file);
  }

  /** Writes `file` itself, atomically, not the catalog path (a partitioned dataset writes its partitions with it). */
  writeAt(file: string, value: T): Promise<void> {
    return this.write(file, value);
  }

  async load(): Promise<T> {
    return this.read(await this.location.requireLoadPath());
  }

  async save(value: T): Promise<void> {
    await this.saveWith((target) => this.write(target, value));
  }

  /** Runs `write` on the save path, with the checks and bookkeeping every save needs. */
  protected async saveWith(write: (target: string) => Promise<void>): Promise<void> {
    await this.location.checkShape();
    const target = this.location.savePath();
    if (!this.location.folder) await removeStaleTemps(target);
    await write(target).catch((e: unknown) => rethrowDatasetFull(e, this.entry.name, this.entry.path ?? target, target, 'saving'));
    this.location.markSaved();
  }

  async exists(): Promise<boolean> {
    return this.location.exists();
  }

  async files(): Promise<string[]> {
    const p = await this.location.loadPath();
    if (p === null) return [];
    return this.location.folder ? listFiles(p) : [p];
  }

  describe(): DatasetDescription {
    const d: DatasetDescription = { name: this.entry.name, type: this.entry.type, path: this.entry.path, versioned: this.location.versioned, options: { ...this.entry.options } };
    const version = this.location.describeVersion();
    if (version) d.version = version;
    if (this.entry.schema) d.schema = this.entry.schema;
    return d;
  }

  /** `file` as shown to people. */
  protected where(file: string): string {
    return this.location.display(file);
  }

  /** KILN3105: the content of `file` cannot be read as this type. */
  protected unreadable(where: string, reason: string, fix = 'Fix or replace the file; it was not written by this dataset type.'): KilnError {
    return new KilnError(diag('KILN3105', { where, dataset: this.entry.name, type: this.entry.type, reason, fix }, this.entry.location));
  }

  /** KILN3108: a node gave this dataset a value it cannot store. */
  protected wrongValue(value: unknown, expected: string): KilnError {
    return new KilnError(diag('KILN3108', { type: this.entry.type, dataset: this.entry.name, actual: kindOfValue(value), expected }, this.entry.location));
  }
}
