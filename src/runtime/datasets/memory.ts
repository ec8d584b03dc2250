// memory: a value kept in the process for the length of a run. Kept by reference, not copied (unlike Kedro's
// deep-copying MemoryDataset): copying tensors, models and large record arrays costs time and memory, and node
// functions are expected not to mutate their inputs. The cache layer snapshots the value with v8.serialize.
import type { DatasetIR } from '../../ir/types.ts';
import { diag, KilnError } from '../../diagnostics/index.ts';
import { checkOptions } from './options.ts';
import type { Dataset, DatasetDescription, DatasetEnv } from './types.ts';

export class MemoryDataset<T = unknown> implements Dataset<T> {
  private value: T | undefined;
  private has = false;

  constructor(private readonly entry: DatasetIR) {
    checkOptions(entry, {});
    if (entry.versioned) throw new KilnError(diag('KILN3109', { type: 'memory', dataset: entry.name }, entry.location));
  }

  async load(): Promise<T> {
    if (!this.has) {
      throw new KilnError(diag('KILN3102', { dataset: this.entry.name, why: 'it lives in memory and nothing has saved it in this run', fix: 'Make a node of the pipeline output it, or declare it in the catalog with a file type so that it is read from disk.' }, this.entry.location));
    }
    return this.value as T;
  }

  async save(value: T): Promise<void> {
    this.value = value;
    this.has = true;
  }

  async exists(): Promise<boolean> {
    return this.has;
  }

  release(): void {
    this.value = undefined;
    this.has = false;
  }

  async files(): Promise<string[]> {
    return [];
  }

  describe(): DatasetDescription {
    return { name: this.entry.name, type: 'memory', versioned: false, options: {} };
  }
}

export function createMemoryDataset(entry: DatasetIR, _env: DatasetEnv): MemoryDataset {
  return new MemoryDataset(entry);
}
