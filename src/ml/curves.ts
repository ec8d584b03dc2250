// Training curves as a self-contained SVG image: one panel per metric (loss, acc, ...), training and
// validation lines together, the restored epoch marked and labelled. Deterministic text, no dependencies.
// Legends and labels sit in each panel's header, above the plot, so that they never hide a curve: accuracy climbs
// into the top right corner, where a legend inside the plot would go.

export interface CurvesOptions {
  title?: string;
  /** Epoch (1-based) to mark with a dashed line, e.g. the one whose weights early stopping restored. */
  markEpoch?: number | null;
  /** Text beside the mark; `epoch <n>` by default. */
  markLabel?: string;
  /** Width of the image in pixels. */
  width?: number;
  /** Height of one panel in pixels. */
  panelHeight?: number;
}

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];
// top: the header row (metric name, legend) and the mark's label above the plot.
const MARGIN = { left: 64, right: 16, top: 42, bottom: 36 };

/** Escapes text for XML content and attribute values. */
function xml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

const fmt = (v: number) => (Math.round(v * 100) / 100).toString();

/** About `count` evenly spaced round numbers (1, 2 or 5 times a power of ten) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const ticks: number[] = [];
  for (let v = Math.floor(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toFixed(decimals)));
  if (ticks[ticks.length - 1] < hi) ticks.push(Number((ticks[ticks.length - 1] + step).toFixed(decimals)));
  return ticks;
}

/** Groups `val_loss` with `loss`, `val_acc` with `acc`, and so on, in first-seen order. */
function panels(history: Record<string, readonly number[]>): Array<{ metric: string; series: string[] }> {
  const out = new Map<string, string[]>();
  for (const key of Object.keys(history)) {
    const metric = key.startsWith('val_') ? key.slice(4) : key;
    const list = out.get(metric) ?? [];
    list.push(key);
    out.set(metric, list);
  }
  return [...out].map(([metric, series]) => ({ metric, series: series.sort((a, b) => a.length - b.length || (a < b ? -1 : 1)) }));
}

/** Width of one character of the 11px sans-serif text, generously: enough to lay the legend out without measuring. */
const LETTER_WIDTH = 6.5;

/** `val_loss` is the validation line of the loss panel; any other series of a training history is the training line. */
function seriesLabel(name: string): string {
  return name.startsWith('val_') ? 'validation' : 'training';
}

/** An SVG line chart of per-epoch metrics (`history[name][i]` is the value after epoch i + 1). */
export function renderCurves(history: Record<string, readonly number[]>, options: CurvesOptions = {}): string {
  const width = options.width ?? 640;
  const panelHeight = options.panelHeight ?? 220;
  const titleHeight = options.title ? 28 : 0;
  const groups = panels(history);
  const height = titleHeight + Math.max(1, groups.length) * panelHeight;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
  ];
  if (options.title) parts.push(`<text x="${width / 2}" y="19" text-anchor="middle" font-size="14" font-weight="bold">${xml(options.title)}</text>`);
  if (groups.length === 0) parts.push(`<text x="${width / 2}" y="${titleHeight + panelHeight / 2}" text-anchor="middle">no metrics recorded</text>`);

  groups.forEach(({ metric, series }, p) => {
    const top = titleHeight + p * panelHeight;
    const x0 = MARGIN.left;
    const x1 = width - MARGIN.right;
    const y0 = top + panelHeight - MARGIN.bottom;
    const y1 = top + MARGIN.top;
    const epochs = Math.max(...series.map((s) => history[s].length), 1);
    const finite = series.flatMap((s) => history[s].filter(Number.isFinite));
    const yTicks = niceTicks(Math.min(...finite), Math.max(...finite));
    const lo = yTicks[0] ?? 0;
    const hi = yTicks[yTicks.length - 1] ?? 1;
    const px = (epoch: number) => (epochs === 1 ? (x0 + x1) / 2 : x0 + ((epoch - 1) / (epochs - 1)) * (x1 - x0));
    const py = (v: number) => (hi === lo ? (y0 + y1) / 2 : y0 - ((v - lo) / (hi - lo)) * (y0 - y1));

    parts.push(`<g class="panel" data-metric="${xml(metric)}">`);
    parts.push(`<text x="${x0}" y="${top + 17}" font-size="12" font-weight="bold">${xml(metric)}</text>`);
    for (const t of yTicks) {
      parts.push(`<line x1="${x0}" y1="${fmt(py(t))}" x2="${x1}" y2="${fmt(py(t))}" stroke="#e5e5e5"/>`);
      parts.push(`<text x="${x0 - 6}" y="${fmt(py(t) + 4)}" text-anchor="end">${t}</text>`);
    }
    for (const e of niceTicks(1, epochs).filter((e) => Number.isInteger(e) && e >= 1 && e <= epochs)) {
      parts.push(`<text x="${fmt(px(e))}" y="${y0 + 15}" text-anchor="middle">${e}</text>`);
    }
    parts.push(`<line x1="${x0}" y1="${y0}" x2="${x1}" y2="${y0}" stroke="#333"/><line x1="${x0}" y1="${y0}" x2="${x0}" y2="${y1}" stroke="#333"/>`);
    parts.push(`<text x="${(x0 + x1) / 2}" y="${y0 + 30}" text-anchor="middle">epoch</text>`);
    const mark = options.markEpoch;
    if (mark != null && mark >= 1 && mark <= epochs) {
      const x = px(mark);
      parts.push(`<line x1="${fmt(x)}" y1="${y0}" x2="${fmt(x)}" y2="${y1}" stroke="#888" stroke-dasharray="4 3"/>`);
      // Anchored toward the middle of the plot, so that a mark near either edge keeps its label inside the image.
      const anchor = x > (x0 + x1) / 2 ? 'end' : 'start';
      const label = options.markLabel ?? `epoch ${mark}`;
      parts.push(`<text class="mark" x="${fmt(anchor === 'end' ? x - 3 : x + 3)}" y="${y1 - 4}" text-anchor="${anchor}" fill="#555">${xml(label)}</text>`);
    }
    series.forEach((name, i) => {
      const color = COLORS[i % COLORS.length];
      // Non-finite values break the line instead of pulling it off the chart.
      let run: string[] = [];
      const flush = () => {
        if (run.length > 1) parts.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${run.join(' ')}"/>`);
        run = [];
      };
      history[name].forEach((v, k) => {
        if (!Number.isFinite(v)) return flush();
        const point = `${fmt(px(k + 1))},${fmt(py(v))}`;
        run.push(point);
        if (epochs <= 40) parts.push(`<circle cx="${fmt(px(k + 1))}" cy="${fmt(py(v))}" r="2" fill="${color}"/>`);
      });
      flush();
    });
    // The legend, right-aligned in the header row: training and validation, named as such.
    const labels = series.map(seriesLabel);
    let lx = x1 - labels.reduce((w, l) => w + 32 + l.length * LETTER_WIDTH, -10);
    const ly = top + 13;
    labels.forEach((label, i) => {
      parts.push(`<g class="legend"><line x1="${fmt(lx)}" y1="${ly}" x2="${fmt(lx + 16)}" y2="${ly}" stroke="${COLORS[i % COLORS.length]}" stroke-width="2"/><text x="${fmt(lx + 20)}" y="${ly + 4}">${xml(label)}</text></g>`);
      lx += 32 + label.length * LETTER_WIDTH;
    });
    parts.push('</g>');
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
