// Metric histories as line charts (uPlot: small, canvas, fast for long histories). Several series share one chart:
// training and validation curves, or the same metric of the runs compared.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { el } from './dom.ts';

export interface Series {
  label: string;
  points: Array<{ step: number; value: number }>;
}

const COLOURS = ['#2f6fdf', '#e4572e', '#29a36a', '#9b51e0', '#f2a900', '#00a3bf', '#d6336c', '#6c757d', '#8f5b2e', '#1b998b'];

export function lineChart(title: string, series: Series[], width = 520): HTMLElement {
  const steps = [...new Set(series.flatMap((s) => s.points.map((p) => p.step)))].sort((a, b) => a - b);
  const index = new Map(steps.map((s, i) => [s, i]));
  const data: uPlot.AlignedData = [steps, ...series.map((s) => {
    const ys: Array<number | null> = steps.map(() => null);
    for (const p of s.points) ys[index.get(p.step)!] = Number.isFinite(p.value) ? p.value : null;
    return ys;
  })];
  const box = el('figure', { class: 'chart', 'data-series': series.length, 'aria-label': `${title}: ${series.map((s) => s.label).join(', ')}` }, el('figcaption', {}, title));
  const opts: uPlot.Options = {
    width,
    height: 220,
    scales: { x: { time: false } },
    axes: [{ label: 'step', stroke: 'currentColor', grid: { stroke: 'rgba(128,128,128,0.2)' } }, { stroke: 'currentColor', grid: { stroke: 'rgba(128,128,128,0.2)' } }],
    series: [{ label: 'step' }, ...series.map((s, i) => ({ label: s.label, stroke: COLOURS[i % COLOURS.length], width: 2, spanGaps: true, points: { show: steps.length < 40 } }))],
  };
  new uPlot(opts, data, box);
  return box;
}

export const colour = (i: number) => COLOURS[i % COLOURS.length];
