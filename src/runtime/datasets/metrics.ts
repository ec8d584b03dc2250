// metrics: named numbers a node reports (accuracy, loss). A save records them with the run through
// env.recordMetrics and, when the entry has a path, writes them as a JSON file; a load gives the last values saved.
import { readFile } from 'node:fs/promises';
import type { DatasetIR } from '../../ir/types.ts';
import { diag, KilnError } from '../../diagnostics/index.ts';
import { removeStaleTemps, writeFileAtomic } from '../atomic.ts';
import { rethrowDatasetFull } from '../../tracking/disk-full.ts';
import { DatasetLocation } from './location.ts';
import { kindOfValue } from './file.ts';
import { checkOptions, stringOption } from './options.ts';
import type { Dataset, DatasetDescription, DatasetEnv } from './types.ts';

export type Metrics = Record<string, number>;

// JSON has no NaN or Infinity; a diverged loss is still a result worth keeping, so these are written as strings.
const NON_FINITE: Record<string, number> = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY };

function toJsonValue(v: number): number | string {
  return Number.isFinite(v) ? v : String(v);
}

export class MetricsDataset implements Dataset<Metrics> {
  /** Where the values are kept as a file, or null when the entry has no path (see FileDataset.location). */
  readonly location: DatasetLocation | null;
  private readonly prefix: string;
  private last: Metrics | null = null;

  constructor(
    private readonly entry: DatasetIR,
    private readonly env: DatasetEnv,
  ) {
    checkOptions(entry, { prefix: stringOption });
    this.prefix = (entry.options.prefix as string | undefined) ?? '';
    if (entry.path) this.location = new DatasetLocation(entry, env, false);
    else if (entry.versioned) throw new KilnError(diag('KILN3109', { type: 'metrics', dataset: entry.name }, entry.location));
    else this.location = null;
  }

  async save(value: Metrics): Promise<void> {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new KilnError(diag('KILN3108', { type: 'metrics', dataset: this.entry.name, actual: kindOfValue(value), expected: 'an object of named numbers, such as { accuracy: 0.93 }' }, this.entry.location));
    }
    const metrics: Metrics = {};
    for (const [k, v] of Object.entries(value)) {
      if (typeof v !== 'number') {
        throw new KilnError(diag('KILN3108', { type: 'metrics', dataset: this.entry.name, actual: `${kindOfValue(v)} as metric '${k}'`, expected: 'an object of named numbers, such as { accuracy: 0.93 }' }, this.entry.location));
      }
      metrics[k] = v;
    }
    if (this.location) {
      await this.location.checkShape();
      const target = this.location.savePath();
      await removeStaleTemps(target);
      const json = Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, toJsonValue(v)]));
      await writeFileAtomic(target, JSON.stringify(json, null, 2) + '\n').catch((e: unknown) => rethrowDatasetFull(e, this.entry.name, this.entry.path ?? target, target, 'saving'));
      this.location.markSaved();
    }
    // Recorded after the file is written, so that a failed write records nothing.
    this.env.recordMetrics(this.entry.name, this.prefix ? Object.fromEntries(Object.entries(metrics).map(([k, v]) => [this.prefix + k, v])) : metrics);
    this.last = metrics;
  }

  async load(): Promise<Metrics> {
    if (this.location && (this.last === null || this.location.versioned)) return this.readFile(await this.location.requireLoadPath());
    if (this.last) return { ...this.last };
    throw new KilnError(diag('KILN3102', { dataset: this.entry.name, why: 'no metrics were saved to it in this run, and it has no path to read them from', fix: "Run the node that produces it first, or give the entry a 'path:' so that its values are kept in a file." }, this.entry.location));
  }

  private async readFile(file: string): Promise<Metrics> {
    const where = this.location!.display(file);
    const bad = (reason: string) => new KilnError(diag('KILN3105', { where, dataset: this.entry.name, type: 'metrics', reason, fix: 'The file must hold one JSON object of named numbers; fix or remove it.' }, this.entry.location));
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(file, 'utf8'));
    } catch (e) {
      throw bad((e as Error).message);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw bad(`it holds ${kindOfValue(parsed)}, not an object`);
    const out: Metrics = {};
    for (const [k, v] of Object.entries(parsed)) {
      if (typeof v === 'number') out[k] = v;
      else if (typeof v === 'string' && Object.hasOwn(NON_FINITE, v)) out[k] = NON_FINITE[v];
      else throw bad(`metric '${k}' is ${kindOfValue(v)}, not a number`);
    }
    return out;
  }

  async exists(): Promise<boolean> {
    if (this.location) return this.location.exists();
    return this.last !== null;
  }

  async files(): Promise<string[]> {
    const p = this.location ? await this.location.loadPath() : null;
    return p === null ? [] : [p];
  }

  describe(): DatasetDescription {
    const d: DatasetDescription = { name: this.entry.name, type: 'metrics', versioned: this.entry.versioned, options: { ...this.entry.options } };
    if (this.entry.path) d.path = this.entry.path;
    const version = this.location?.describeVersion();
    if (version) d.version = version;
    return d;
  }
}

export function createMetricsDataset(entry: DatasetIR, env: DatasetEnv): MetricsDataset {
  return new MetricsDataset(entry, env);
}
