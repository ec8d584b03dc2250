// One run: parameters, metrics with their histories as charts (training and validation curves together), the git
// stamp with dirty files, a timeline of node executions, logged files, and the artifact with its parity verdict.
import type { RunDetail } from '../runs-view.ts';
import type { MetricPoint } from '../../tracking/store.ts';
import { el, svg, replace, section, table, text, formatDuration, formatNumber, formatTime } from './dom.ts';
import { lineChart, type Series } from './chart.ts';
import { api, isStatic } from './data.ts';
import { failed } from './problems.ts';

/** `val_loss` and `loss` share a chart: the metric's name without its validation marker. */
export function curveGroup(metric: string): string {
  return metric.replace(/^(val|validation)[_.]/, '').replace(/[_.](val|validation)$/, '');
}

export function metricCharts(histories: Record<string, MetricPoint[]>): HTMLElement[] {
  const groups = new Map<string, Series[]>();
  for (const [k, points] of Object.entries(histories)) {
    if (points.length < 2) continue;
    const g = curveGroup(k);
    groups.set(g, [...(groups.get(g) ?? []), { label: k, points }]);
  }
  return [...groups].map(([g, series]) => lineChart(g, series));
}

function timeline(run: RunDetail['run']): SVGSVGElement {
  const t0 = run.startTime;
  const end = Math.max(run.endTime ?? Date.now(), ...run.nodes.map((n) => n.endTime ?? Date.now()));
  const span = Math.max(1, end - t0);
  const W = 640;
  const row = 22;
  const label = 170;
  const root = svg('svg', { class: 'timeline', viewBox: `0 0 ${W} ${run.nodes.length * row + 4}`, role: 'img', 'aria-label': 'timeline of node executions' });
  run.nodes.forEach((n, i) => {
    const x = label + ((n.startTime - t0) / span) * (W - label - 10);
    const w = Math.max(2, (((n.endTime ?? Date.now()) - n.startTime) / span) * (W - label - 10));
    const kind = n.cacheHit ? 'skipped' : n.status;
    root.append(
      svg('g', { class: `exec ${kind}` }, svg('title', {}, `${n.node}: ${n.cacheHit ? 'skipped (cache hit)' : n.status}, ${formatDuration(n.startTime, n.endTime)}`), svg('text', { x: 0, y: i * row + 15 }, n.node), svg('rect', { x, y: i * row + 4, width: w, height: row - 8, rx: 3 })),
    );
  });
  return root;
}

function detailView(d: RunDetail): HTMLElement {
  const r = d.run;
  const running = r.nodes.find((n) => n.status === 'RUNNING');
  const done = r.nodes.filter((n) => n.status !== 'RUNNING').length;
  return el(
    'div',
    { class: 'run-detail' },
    el('h1', {}, 'Run ', el('code', {}, d.shortId), ' ', el('span', { class: `status ${r.status}` }, r.status)),
    el('p', {}, `pipeline ${r.pipeline}, started ${formatTime(r.startTime)}, ${formatDuration(r.startTime, r.endTime)}`),
    r.status === 'RUNNING' ? el('p', { class: 'live', role: 'status' }, `In progress: ${done} node${done === 1 ? '' : 's'} finished`, running ? `, running ${running.node}` : '', ' (updates live)') : null,
    r.error ? el('pre', { class: 'error', role: 'alert' }, r.error) : null,
    r.status === 'FAILED' ? el('p', {}, 'Fix the cause and run it again: ', el('code', {}, `kiln run ${r.pipeline}`)) : null,
    section('Parameters', Object.keys(r.params).length ? table(['key', 'value'], Object.entries(r.params).map(([k, v]) => [k, text(v)])) : el('p', { class: 'muted' }, 'none')),
    section(
      'Metrics',
      Object.keys(r.metrics).length ? table(['key', 'latest', 'step', 'points'], Object.entries(r.metrics).map(([k, m]) => [k, formatNumber(m.value), String(m.step), String(m.historyLength)])) : el('p', { class: 'muted' }, 'none'),
      el('div', { class: 'charts' }, metricCharts(d.histories)),
    ),
    section(
      'Git',
      r.git.commit
        ? el('p', {}, el('code', {}, r.git.commit), ` on ${r.git.branch ?? '(detached HEAD)'} `, r.git.dirty ? `(dirty, ${r.git.uncommitted.length} uncommitted files, changes sha256 ${r.git.diffHash?.slice(0, 12) ?? '-'})` : '(clean)')
        : el('p', { class: 'muted' }, 'not stamped (no git commit)'),
      r.git.uncommitted.length ? table(['status', 'path', 'blob'], r.git.uncommitted.map((f) => [f.status, f.path, f.blob?.slice(0, 12) ?? '-'])) : null,
    ),
    section('Nodes', r.nodes.length ? [timeline(r), table(['node', 'status', 'duration', 'cache'], r.nodes.map((n) => [n.node, el('span', { class: `status ${n.status}` }, n.status), formatDuration(n.startTime, n.endTime), n.cacheHit ? 'skipped (cache hit)' : 'executed']))] : el('p', { class: 'muted' }, 'no node ran')),
    section(
      'Artifact',
      d.artifacts.length ? table(['model', 'parity', 'digest', 'path'], d.artifacts.map((a) => [a.model, el('span', { class: `verdict ${a.parity ?? 'none'}` }, a.parity ?? '-'), a.digest ? el('code', {}, a.digest.slice(0, 16)) : '-', a.path ?? '-'])) : el('p', { class: 'muted' }, 'no artifact built by this run (kiln package <run> builds one)'),
    ),
    section(
      'Files and logs',
      r.files.length ? table(['name', 'size', ''], r.files.map((f) => [f.name, `${f.size} B`, isStatic ? el('code', {}, `kiln runs get ${d.shortId} ${f.name}`) : el('a', { href: `api/runs/${encodeURIComponent(r.id)}/files/${f.name.split('/').map(encodeURIComponent).join('/')}` }, 'open')])) : el('p', { class: 'muted' }, 'none'),
    ),
    section('Tags', Object.keys(r.tags).length ? table(['key', 'value'], Object.entries(r.tags).map(([k, v]) => [k, v])) : el('p', { class: 'muted' }, 'none')),
    section('Invocation', el('p', {}, el('code', {}, r.command.join(' ') || '-')), el('p', {}, `kiln ${r.versions.kiln}, node ${r.versions.node}, tfjs ${r.versions.tfjs ?? '-'}, backend ${r.backend ?? '-'}, host ${r.host.hostname} (pid ${r.host.pid})`)),
  );
}

export function runView(id: string): HTMLElement {
  const box = el('div', {}, el('p', { class: 'muted' }, 'Loading…'));
  const load = async () => {
    const a = await api<RunDetail>(`/api/runs/${encodeURIComponent(id)}`);
    if (a.status !== 200) return replace(box, failed(`Run ${id}`, a.json));
    replace(box, detailView(a.json));
    // Live: a run in progress is polled until it ends.
    if (a.json.run.status === 'RUNNING' && !isStatic) setTimeout(() => document.body.contains(box) && void load(), 1500);
  };
  void load();
  return box;
}
