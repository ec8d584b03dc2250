// partitioned: a folder of files of one type loaded as one dataset, Kedro's PartitionedDataset. Load gives a lazy
// loader per partition (id = path under the folder without the suffix); save replaces the whole folder at once.
import path from 'node:path';
import type { DatasetIR, JsonValue } from '../../ir/types.ts';
import { diag, KilnError } from '../../diagnostics/index.ts';
import { replaceDirAtomic } from '../atomic.ts';
import { BinaryDataset } from './binary.ts';
import { CsvDataset, csvOptions } from './csv.ts';
import { FileDataset, listFiles } from './file.ts';
import { JsonDataset, jsonOptions } from './json.ts';
import { JsonlDataset } from './jsonl.ts';
import { checkOptions, oneOfOption, stringOption, type OptionRule } from './options.ts';
import { TextDataset } from './text.ts';
import type { DatasetEnv } from './types.ts';

export const PARTITION_TYPES = ['json', 'jsonl', 'csv', 'text', 'binary'] as const;
export type PartitionType = (typeof PARTITION_TYPES)[number];

/** What a load returns: one loader per partition id, called when (and each time) the partition is needed. */
export type PartitionLoaders<T = unknown> = Record<string, () => Promise<T>>;
/** What a save takes: per partition id, the value or a function that produces it when it is written (lazy save). */
export type PartitionValues<T = unknown> = Record<string, T | (() => T | Promise<T>)>;

const partitionOptions: Record<PartitionType, Record<string, OptionRule>> = {
  json: jsonOptions,
  jsonl: {},
  csv: csvOptions,
  text: {},
  binary: {},
};

const partitionClasses: Record<PartitionType, new (entry: DatasetIR, env: DatasetEnv) => FileDataset<any>> = {
  json: JsonDataset,
  jsonl: JsonlDataset,
  csv: CsvDataset,
  text: TextDataset,
  binary: BinaryDataset,
};

/** Whether `id` can name a file under the folder without leaving it or hiding from the listing. */
export function isSafePartitionId(id: string): boolean {
  if (id.length === 0 || id.length > 1024) return false;
  // eslint-disable-next-line no-control-regex
  if (/[\\\u0000-\u001f\u007f]/.test(id)) return false;
  return id.split('/').every((part) => part.length > 0 && part.length <= 255 && !part.startsWith('.'));
}

export class PartitionedDataset extends FileDataset<Record<string, unknown>> {
  readonly partitionType: PartitionType;
  readonly suffix: string;
  /** Reads and writes single partition files; its own path is never used. */
  private readonly partition: FileDataset<unknown>;

  constructor(entry: DatasetIR, env: DatasetEnv) {
    const sub = entry.options.dataset;
    if (sub === undefined || !(PARTITION_TYPES as readonly JsonValue[]).includes(sub)) {
      throw new KilnError(diag('KILN3107', { key: 'dataset', dataset: entry.name, expected: `one of ${PARTITION_TYPES.join(', ')}`, fix: 'Set options.dataset to the type of each partition file, for example `dataset: json` with `suffix: .json`.' }, entry.location));
    }
    const type = sub as PartitionType;
    checkOptions(entry, { dataset: oneOfOption(PARTITION_TYPES), suffix: stringOption, ...partitionOptions[type] }, `partitioned (${type})`);
    super(entry, env, true);
    this.partitionType = type;
    this.suffix = (entry.options.suffix as string | undefined) ?? '';
    const { dataset: _d, suffix: _s, ...rest } = entry.options;
    this.partition = new partitionClasses[type]({ ...entry, type, versioned: false, options: rest }, env);
  }

  private partitionFiles(folder: string): Promise<string[]> {
    return listFiles(folder).then((files) => files.filter((f) => f.endsWith(this.suffix) && path.basename(f).length > this.suffix.length));
  }

  private idOf(folder: string, file: string): string {
    const rel = path.relative(folder, file).split(path.sep).join('/');
    return this.suffix ? rel.slice(0, -this.suffix.length) : rel;
  }

  protected async read(folder: string): Promise<PartitionLoaders> {
    const loaders: PartitionLoaders = {};
    // Symbolic links are not listed (a Dirent of a link is neither a file nor a folder), so none can lead outside.
    for (const file of await this.partitionFiles(folder)) loaders[this.idOf(folder, file)] = () => this.partition.readAt(file);
    return loaders;
  }

  protected async write(folder: string, value: Record<string, unknown>): Promise<void> {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw this.wrongValue(value, 'an object of partitions: { [id]: value or () => value }');
    const ids = Object.keys(value).sort();
    for (const id of ids) {
      if (!isSafePartitionId(id)) throw new KilnError(diag('KILN3110', { id, dataset: this.entry.name }, this.entry.location));
    }
    await replaceDirAtomic(folder, async (tmp) => {
      for (const id of ids) {
        const v = value[id];
        // A function is a lazy partition: produced now, written, and dropped before the next one.
        const data = typeof v === 'function' ? await (v as () => unknown)() : v;
        await this.partition.writeAt(path.join(tmp, ...id.split('/')) + this.suffix, data);
      }
    });
  }

  override async files(): Promise<string[]> {
    const folder = await this.location.loadPath();
    return folder === null ? [] : this.partitionFiles(folder);
  }
}

export function createPartitionedDataset(entry: DatasetIR, env: DatasetEnv): PartitionedDataset {
  return new PartitionedDataset(entry, env);
}
