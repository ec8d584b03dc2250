// The contract between the runner and a catalog dataset: how a value is loaded, saved and found on disk.
import type { DatasetIR, DatasetType } from '../../ir/types.ts';

export interface Dataset<T> {
  /** Reads the current value. Throws KILN3102 when nothing was saved yet, KILN3104/KILN3105 for bad content. */
  load(): Promise<T>;
  /** Replaces the saved value; readers see the old value or the new one, never a part (see src/runtime/atomic.ts). */
  save(value: T): Promise<void>;
  /** Whether `load` would find a value (for versioned datasets: the pinned or the latest version). */
  exists(): Promise<boolean>;
  /** A JSON-safe description for logs and run records (no absolute paths). */
  describe(): DatasetDescription;
  /** Drops what the dataset keeps in memory (the value of a memory dataset). */
  release?(): void;
  /**
   * Absolute paths of the files that make up the currently saved state, sorted; [] when nothing is saved and for
   * datasets that live in memory (the caller snapshots their value with v8.serialize). The cache layer hashes
   * these files and copies them to the object store.
   */
  files(): Promise<string[]>;
}

export interface DatasetDescription {
  name: string;
  type: DatasetType;
  /** The catalog path, relative to the project root. */
  path?: string;
  versioned: boolean;
  /** For versioned datasets: the version a load reads (null: the latest) and the one a save writes. */
  version?: { load: string | null; save: string };
  options: Record<string, unknown>;
  /** Project-relative path of the record schema, when there is one. */
  schema?: string;
}

/** What the runner gives every dataset it creates. */
export interface DatasetEnv {
  /** Absolute project root; catalog paths are resolved from it. */
  root: string;
  /** Absolute folders outside the root that datasets may use (kiln.yaml `paths.allow`). */
  allowedPaths: string[];
  /** Version a versioned dataset loads (`kiln run --load-version name:version`); the latest when absent. */
  loadVersion?: string;
  /** Version folder every versioned save of this run writes: one timestamp per run (see `newSaveVersion`). */
  saveVersion: string;
  /** Records metrics with the run (metrics datasets call it on save). */
  recordMetrics(dataset: string, metrics: Record<string, number>): void;
}

export type DatasetFactory = (entry: DatasetIR, env: DatasetEnv) => Dataset<unknown>;
