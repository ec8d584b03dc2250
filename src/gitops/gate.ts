// The publish gate of a model binding: thresholds on the run's metrics (`accuracy: ">= 0.98"`), and `better_than:
// <alias>`: every gated metric at least as good as the version the alias points at. Pure: data in, diagnostics out.
import { diag } from '../diagnostics/diagnostic.ts';
import { didYouMean } from '../diagnostics/didyoumean.ts';
import type { Diagnostic } from '../diagnostics/types.ts';
import type { ModelGateIR } from '../ir/types.ts';
import { formatNumber } from './report-format.ts';

type Op = ModelGateIR['metrics'][string]['op'];

export interface GateInput {
  model: string;
  run: string;
  gate: ModelGateIR | null;
  /** The run's metrics (latest value of each). */
  metrics: Record<string, number>;
  /** The version `gate.betterThan` points at and its metrics; null while the alias is unset. */
  baseline: { alias: string; version: number; metrics: Record<string, number> } | null;
}

export interface GateOutcome {
  diagnostics: Diagnostic[];
  /** What was checked and passed, for the publish summary. */
  passed: string[];
}

export function compare(value: number, op: Op, threshold: number): boolean {
  switch (op) {
    case '>=':
      return value >= threshold;
    case '>':
      return value > threshold;
    case '<=':
      return value <= threshold;
    case '<':
      return value < threshold;
    case '==':
      return value === threshold;
    case '!=':
      return value !== threshold;
  }
}

/** Which way is better for a metric, read from its threshold: `>=`/`>` higher, `<=`/`<` lower, `==`/`!=` neither. */
export function betterDirection(op: Op): 'higher' | 'lower' | null {
  return op === '>=' || op === '>' ? 'higher' : op === '<=' || op === '<' ? 'lower' : null;
}

export function checkGate(input: GateInput): GateOutcome {
  const diagnostics: Diagnostic[] = [];
  const passed: string[] = [];
  const gate = input.gate;
  if (!gate) return { diagnostics, passed };
  const known = Object.keys(input.metrics).sort();
  for (const [metric, g] of Object.entries(gate.metrics).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const value = input.metrics[metric];
    if (value === undefined) {
      diagnostics.push(diag('KILN7020', { model: input.model, run: input.run, metric, suggestion: didYouMean(metric, known).replace(/^ did/, ' Did'), available: known.join(', ') || '(none)' }, g.location));
      continue;
    }
    if (!compare(value, g.op, g.value)) diagnostics.push(diag('KILN7009', { model: input.model, metric, value: formatNumber(value), op: g.op, threshold: g.value }, g.location));
    else passed.push(`${metric} ${formatNumber(value)} ${g.op} ${g.value}`);
    const base = input.baseline;
    const dir = betterDirection(g.op);
    const other = base?.metrics[metric];
    // A metric the baseline never recorded (a gate added since) cannot be compared; it is judged by its threshold alone.
    if (!base || !dir || other === undefined) continue;
    const ok = dir === 'higher' ? value >= other : value <= other;
    if (!ok) diagnostics.push(diag('KILN7010', { model: input.model, metric, value: formatNumber(value), alias: base.alias, version: base.version, other: formatNumber(other) }, gate.location));
    else passed.push(`${metric} ${formatNumber(value)} ${dir === 'higher' ? '>=' : '<='} ${formatNumber(other)} of ${base.alias} (v${base.version})`);
  }
  return { diagnostics, passed };
}
