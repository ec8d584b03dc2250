// Two runs side by side: every parameter and metric of either, with what changed and by how much.
import type { JsonValue } from '../ir/types.ts';
import type { RunRecord } from './store.ts';

export interface ParamComparison {
  key: string;
  /** undefined where the run has no such parameter. */
  a?: JsonValue;
  b?: JsonValue;
  changed: boolean;
}

export interface MetricComparison {
  key: string;
  a: number | null;
  b: number | null;
  /** b − a, when both runs have the metric. */
  delta: number | null;
  /** delta relative to |a|, when a is non-zero. */
  relative: number | null;
}

export interface RunComparison {
  a: string;
  b: string;
  params: ParamComparison[];
  metrics: MetricComparison[];
}

export function compareRuns(a: RunRecord, b: RunRecord): RunComparison {
  const paramKeys = [...new Set([...Object.keys(a.params), ...Object.keys(b.params)])].sort();
  const params = paramKeys.map((key): ParamComparison => {
    const inA = key in a.params;
    const inB = key in b.params;
    const row: ParamComparison = { key, changed: !inA || !inB || JSON.stringify(a.params[key]) !== JSON.stringify(b.params[key]) };
    if (inA) row.a = a.params[key];
    if (inB) row.b = b.params[key];
    return row;
  });
  const metricKeys = [...new Set([...Object.keys(a.metrics), ...Object.keys(b.metrics)])].sort();
  const metrics = metricKeys.map((key): MetricComparison => {
    const va = a.metrics[key]?.value ?? null;
    const vb = b.metrics[key]?.value ?? null;
    const delta = va !== null && vb !== null ? vb - va : null;
    const relative = delta !== null && va !== null && va !== 0 && Number.isFinite(delta) ? delta / Math.abs(va) : null;
    return { key, a: va, b: vb, delta, relative };
  });
  return { a: a.id, b: b.id, params, metrics };
}
