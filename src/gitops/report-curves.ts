// Metric histories (training and validation curves) drawn as Mermaid xychart-beta line charts: GitHub renders Mermaid
// in job summaries, pull-request comments and issues, where image files next to a report do not show (relative paths
// do not resolve there, and data: URIs are stripped). Only numbers and fixed words go inside the Mermaid block; the
// metric's name, which comes from YAML or node code, stays outside it in a Markdown code span.
import { code } from './markdown.ts';
import type { MetricPoint } from '../tracking/store.ts';

/** The most points one line gets: enough for the shape of a curve, few enough for a comment to stay readable. */
export const MAX_CURVE_POINTS = 50;
/** The most charts one report draws; the other metrics with a history are named below them. */
export const MAX_CURVES = 12;

export interface MetricCurve {
  key: string;
  /** The history of each side, ordered by step; null when that side has no run or did not log the metric. */
  base: Array<[step: number, value: number]> | null;
  head: Array<[step: number, value: number]> | null;
}

// Fixed colours, so that the caption can say which line is which (xychart-beta draws no legend).
const BASE_COLOUR = '#8c8c8c';
const HEAD_COLOUR = '#1f77b4';

/** One value per step (the last one logged for it), non-finite values left out: Mermaid cannot place them. */
export function curvePoints(history: readonly MetricPoint[]): Array<[number, number]> {
  const byStep = new Map<number, number>();
  for (const p of history) if (Number.isFinite(p.value) && Number.isFinite(p.step)) byStep.set(p.step, p.value);
  return [...byStep.entries()].sort(([a], [b]) => a - b);
}

/** At most `max` of `items`, evenly spaced, the first and the last always kept: the same input gives the same picks. */
export function evenlySpaced<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return [...items];
  const out: T[] = [];
  for (let k = 0; k < max; k++) out.push(items[Math.round((k * (items.length - 1)) / (max - 1))]);
  return out;
}

/** A plain decimal (Mermaid's number syntax has no exponent), six significant digits. */
export function mermaidNumber(v: number): string {
  return v.toLocaleString('en-US', { useGrouping: false, maximumSignificantDigits: 6 });
}

/**
 * The value of a side at each chosen step: the one logged at that step, else the latest logged before it (the first
 * logged value before the side starts). A side's line stops at its last step, so a shorter run ends early.
 */
function lineAt(points: ReadonlyArray<[number, number]>, steps: readonly number[]): number[] {
  const last = points[points.length - 1][0];
  const out: number[] = [];
  let i = 0;
  for (const step of steps) {
    if (step > last) break;
    while (i + 1 < points.length && points[i + 1][0] <= step) i++;
    out.push(points[i][1]);
  }
  return out;
}

function chart(c: MetricCurve): string {
  const sides = [c.base, c.head].filter((s): s is Array<[number, number]> => s !== null && s.length > 0);
  const steps = evenlySpaced([...new Set(sides.flatMap((s) => s.map(([step]) => step)))].sort((a, b) => a - b), MAX_CURVE_POINTS);
  const colours = [...(c.base?.length ? [BASE_COLOUR] : []), ...(c.head?.length ? [HEAD_COLOUR] : [])];
  const lines = [
    '```mermaid',
    `%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "${colours.join(', ')}"}}}}%%`,
    'xychart-beta',
    `  x-axis "step" [${steps.map((s) => `"${mermaidNumber(s)}"`).join(', ')}]`,
    ...sides.map((s) => `  line [${lineAt(s, steps).map(mermaidNumber).join(', ')}]`),
    '```',
  ];
  return lines.join('\n');
}

function caption(c: MetricCurve): string {
  const count = (s: MetricCurve['base']) => (s && s.length ? `${s.length} step${s.length === 1 ? '' : 's'}` : null);
  const parts = [count(c.base) && `grey: base (${count(c.base)})`, count(c.head) && `blue: HEAD (${count(c.head)})`].filter(Boolean);
  const steps = new Set([...(c.base ?? []), ...(c.head ?? [])].map(([s]) => s)).size;
  const thinned = steps > MAX_CURVE_POINTS ? `, ${MAX_CURVE_POINTS} of ${steps} steps shown` : '';
  return `${code(c.key)}: ${parts.join(', ')}${thinned}`;
}

/** The "Training curves" section, or nothing when no metric of either run has a history of two steps or more. */
export function renderCurves(curves: readonly MetricCurve[]): string[] {
  const drawn = curves.filter((c) => (c.base?.length ?? 0) >= 2 || (c.head?.length ?? 0) >= 2);
  if (!drawn.length) return [];
  const out = ['#### Training curves', ''];
  for (const c of drawn.slice(0, MAX_CURVES)) out.push(caption(c), '', chart(c), '');
  if (drawn.length > MAX_CURVES) out.push(`_${drawn.length - MAX_CURVES} more metric(s) with a history: ${drawn.slice(MAX_CURVES).map((c) => code(c.key)).join(', ')} (kiln runs show <run>)._`, '');
  return out;
}
