// Several runs compared: parameters that differ, metrics with each run's delta from the first (as `kiln runs
// compare` computes it), and their histories. Pure, so the static export's app computes it from baked runs too.
import { compareRuns } from '../tracking/compare.ts';
import type { JsonValue } from '../ir/types.ts';
import type { MetricPoint, RunRecord, RunStatus } from '../tracking/store.ts';

export interface ComparedRun {
  id: string;
  shortId: string;
  status: RunStatus;
  params: Record<string, JsonValue>;
  metrics: Record<string, number>;
  histories: Record<string, MetricPoint[]>;
}

export interface Comparison {
  runs: ComparedRun[];
  /** Every parameter of any run; `changed` when the runs do not all agree. */
  params: Array<{ key: string; values: Array<JsonValue | null>; changed: boolean }>;
  /** Every metric of any run, with each run's delta from the first. */
  metrics: Array<{ key: string; values: Array<number | null>; deltas: Array<number | null> }>;
}

export function comparison(details: ReadonlyArray<{ run: RunRecord; shortId: string; histories: Record<string, MetricPoint[]> }>): Comparison {
  const records = details.map((d) => d.run);
  const first = records[0];
  const pairs = records.map((r) => compareRuns(first, r));
  const paramKeys = [...new Set(records.flatMap((r) => Object.keys(r.params)))].sort();
  const metricKeys = [...new Set(records.flatMap((r) => Object.keys(r.metrics)))].sort();
  return {
    runs: details.map((d) => ({ id: d.run.id, shortId: d.shortId, status: d.run.status, params: d.run.params, metrics: Object.fromEntries(Object.entries(d.run.metrics).map(([k, m]) => [k, m.value])), histories: d.histories })),
    params: paramKeys.map((key) => {
      const values = records.map((r) => (key in r.params ? r.params[key] : null));
      return { key, values, changed: new Set(values.map((v) => JSON.stringify(v))).size > 1 };
    }),
    metrics: metricKeys.map((key) => ({
      key,
      values: records.map((r) => r.metrics[key]?.value ?? null),
      deltas: pairs.map((p) => p.metrics.find((m) => m.key === key)?.delta ?? null),
    })),
  };
}
