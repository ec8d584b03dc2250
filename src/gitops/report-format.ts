// How a report reads on a pull request: who is compared, the metric table with deltas (like `dvc metrics diff`),
// the parameters that differ, the metric histories as charts, and which image files the runs logged.
import { code, showValue, table } from './markdown.ts';
import { renderCurves } from './report-curves.ts';
import type { MetricRow, Report, ReportSide } from './report.ts';

/** Six significant digits at most, without trailing zeros. */
export function formatNumber(v: number | null): string {
  if (v === null) return '—';
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(6)));
}

export function formatChange(m: MetricRow): string {
  if (m.delta === null) return m.old === null ? 'new' : m.new === null ? 'gone' : '—';
  if (m.delta === 0 || Number.isNaN(m.delta)) return 'no change';
  const arrow = m.delta > 0 ? '↑' : '↓';
  const sign = m.delta > 0 ? '+' : '−';
  const rel = m.relative !== null ? ` (${sign}${String(Number(Math.abs(m.relative * 100).toPrecision(3)))}%)` : '';
  return `${arrow} ${sign}${formatNumber(Math.abs(m.delta))}${rel}`;
}

function sideRow(title: string, s: ReportSide): string[] {
  const run = s.run ? `${code(s.run.id)}${s.run.dirty ? ' (uncommitted changes)' : ''}` : '**no FINISHED run**';
  return [title, code(s.commit.slice(0, 7)), run];
}

export function renderReportMarkdown(r: Report): string {
  const out: string[] = ['<!-- kiln-report -->', `### kiln report: ${code(r.pipeline)}${r.model ? ` (model ${code(r.model)})` : ''}`, ''];
  out.push(table(['', 'Commit', 'Run'], [sideRow(`Base (${code(r.base.label)})`, r.base), sideRow('HEAD', r.head)]));
  for (const [s, where] of [
    [r.base, `the base ${code(r.base.label)}`],
    [r.head, 'HEAD'],
  ] as const) {
    if (!s.run) out.push(`> **Note:** no FINISHED run of ${code(r.pipeline)} at ${where} (${code(s.commit.slice(0, 7))}), so there is nothing to compare on that side. Run the pipeline on that commit (\`kiln run\`).`, '');
  }
  out.push('#### Metrics', '');
  if (r.metrics.length) out.push(table(['Metric', 'Old', 'New', 'Change'], r.metrics.map((m) => [code(m.key), formatNumber(m.old), formatNumber(m.new), formatChange(m)]), ['left', 'right', 'right', 'right']));
  else out.push('No metrics recorded.', '');
  if (r.base.run && r.head.run) {
    out.push('#### Parameters', '');
    if (r.params.length) out.push(table(['Parameter', 'Old', 'New'], r.params.map((p) => [code(p.key), code(showValue(p.old)), code(showValue(p.new))])));
    else out.push('Both runs used the same parameters.', '');
  }
  out.push(...renderCurves(r.curves));
  if (r.images.length) {
    // Named, not embedded: a job summary or a comment cannot show a file next to the report (its path does not
    // resolve there), and a broken image is worse than a name. The charts above are what renders.
    out.push('#### Images', '');
    const file = (f: string | null) => (f ? code(f) : '—');
    out.push(table(['Logged as', 'Base', 'HEAD'], r.images.map((i) => [code(i.name), file(i.base), file(i.head)])));
    if (r.images.every((i) => !i.base && !i.head)) out.push('_Pass `--out <dir>` to write the images next to the report, or `kiln runs get <run> <file>` for one._', '');
    else out.push('_Written next to report.md in the `--out` folder (in CI, the `kiln-report` artifact of the workflow run)._', '');
  }
  return out.join('\n').trimEnd() + '\n';
}
