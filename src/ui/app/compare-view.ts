// Two to ten runs side by side: parameters that differ, metrics with deltas from the first run, their histories
// overlaid, and a scatter of a chosen parameter against a chosen metric.
import type { Comparison } from '../comparison.ts';
import { comparison } from '../comparison.ts';
import type { RunDetail } from '../runs-view.ts';
import { el, svg, replace, section, table, text, formatNumber } from './dom.ts';
import { colour, lineChart } from './chart.ts';
import { api, isStatic } from './data.ts';
import { failed } from './problems.ts';

async function load(ids: string[]): Promise<{ status: number; json: unknown }> {
  if (!isStatic) return api<Comparison>('/api/compare', { ids: ids.join(',') });
  // The static export bakes each run; the comparison is computed the same way the server does.
  const details: RunDetail[] = [];
  for (const id of ids) {
    const a = await api<RunDetail>(`/api/runs/${id}`);
    if (a.status !== 200) return a;
    details.push(a.json);
  }
  return { status: 200, json: comparison(details) };
}

function scatter(c: Comparison, param: string, metric: string): SVGSVGElement {
  const pts = c.runs.map((r, i) => ({ x: Number(r.params[param]), y: r.metrics[metric], i, id: r.shortId })).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const W = 420;
  const H = 240;
  const P = 36;
  const xs = pts.map((p) => p.x);
  const ys = pts.map((p) => p.y);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const sx = (x: number) => P + (x1 === x0 ? 0.5 : (x - x0) / (x1 - x0)) * (W - 2 * P);
  const sy = (y: number) => H - P - (y1 === y0 ? 0.5 : (y - y0) / (y1 - y0)) * (H - 2 * P);
  return svg(
    'svg',
    { class: 'scatter', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `${metric} against ${param}` },
    svg('line', { x1: P, y1: H - P, x2: W - P, y2: H - P, class: 'axis' }),
    svg('line', { x1: P, y1: P, x2: P, y2: H - P, class: 'axis' }),
    svg('text', { x: W / 2, y: H - 6, 'text-anchor': 'middle' }, param),
    svg('text', { x: 4, y: 14 }, metric),
    pts.length ? [svg('text', { x: P, y: H - P + 14 }, formatNumber(x0)), svg('text', { x: W - P, y: H - P + 14, 'text-anchor': 'end' }, formatNumber(x1)), svg('text', { x: P - 4, y: P, 'text-anchor': 'end' }, formatNumber(y1)), svg('text', { x: P - 4, y: H - P, 'text-anchor': 'end' }, formatNumber(y0))] : null,
    pts.map((p) => svg('circle', { cx: sx(p.x), cy: sy(p.y), r: 5, fill: colour(p.i), class: 'point' }, svg('title', {}, `${p.id}: ${param}=${p.x}, ${metric}=${p.y}`))),
  );
}

function comparisonView(c: Comparison): HTMLElement {
  const heads = c.runs.map((r, i) => el('span', { class: 'run-key' }, el('span', { class: `dot c${i % 10}` }), el('a', { href: `#/run/${r.id}` }, r.shortId)));
  let onlyChanged = true;
  const params = el('div', {});
  const drawParams = () => replace(params, table(['parameter', ...heads.map((h) => h.cloneNode(true))], c.params.filter((p) => !onlyChanged || p.changed).map((p) => [p.key, ...p.values.map((v) => el('span', { class: p.changed ? 'changed' : '' }, text(v)))])));
  drawParams();
  const histories = [...new Set(c.runs.flatMap((r) => Object.entries(r.histories).filter(([, h]) => h.length > 1).map(([k]) => k)))].sort();
  // Parameters that differ first: the x axis worth looking at.
  const numericParams = c.params.filter((p) => p.values.some((v) => typeof v === 'number')).sort((a, b) => Number(b.changed) - Number(a.changed)).map((p) => p.key);
  const metricKeys = c.metrics.map((m) => m.key);
  const scatterBox = el('div', {});
  const pSel = el('select', { 'aria-label': 'parameter (x axis)' }, numericParams.map((k) => el('option', { value: k }, k)));
  const mSel = el('select', { 'aria-label': 'metric (y axis)' }, metricKeys.map((k) => el('option', { value: k }, k)));
  const drawScatter = () => (pSel.value && mSel.value ? replace(scatterBox, scatter(c, pSel.value, mSel.value)) : replace(scatterBox, el('p', { class: 'muted' }, 'No numeric parameter and metric to plot.')));
  pSel.addEventListener('change', drawScatter);
  mSel.addEventListener('change', drawScatter);
  drawScatter();
  return el(
    'div',
    { class: 'compare' },
    el('h1', {}, `Comparing ${c.runs.length} runs`),
    section('Parameters', el('label', {}, el('input', { type: 'checkbox', checked: true, on: { change: (e) => ((onlyChanged = (e.target as HTMLInputElement).checked), drawParams()) } }), ' only those that differ'), params),
    section(
      'Metrics',
      table(
        ['metric', ...heads.map((h) => h.cloneNode(true))],
        c.metrics.map((m) => [m.key, ...m.values.map((v, i) => el('span', {}, formatNumber(v), i > 0 && m.deltas[i] !== null ? el('span', { class: `delta ${m.deltas[i]! > 0 ? 'up' : m.deltas[i]! < 0 ? 'down' : ''}` }, ` (${m.deltas[i]! > 0 ? '+' : ''}${formatNumber(m.deltas[i])})`) : ''))]),
      ),
    ),
    section('Histories', histories.length ? el('div', { class: 'charts' }, histories.map((k) => lineChart(k, c.runs.filter((r) => r.histories[k]?.length).map((r) => ({ label: r.shortId, points: r.histories[k] }))))) : el('p', { class: 'muted' }, 'No metric has a history of more than one step.')),
    section('Parameters against a metric', el('div', { class: 'controls' }, el('label', {}, 'x ', pSel), el('label', {}, ' y ', mSel)), scatterBox),
  );
}

export function compareView(ids: string[]): HTMLElement {
  const box = el('div', {}, el('p', { class: 'muted' }, 'Loading…'));
  void load(ids).then((a) => replace(box, a.status === 200 ? comparisonView(a.json as Comparison) : failed('These runs cannot be compared', a.json)));
  return box;
}
