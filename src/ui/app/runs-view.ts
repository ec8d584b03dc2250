// The runs table: the filter language of `kiln runs search`, user-chosen metric and parameter columns, sorting,
// pages of 50 (so 10,000 runs cost one page), and a selection to compare.
import type { RunRow, RunsPage } from '../runs-view.ts';
import { el, replace, text, formatDuration, formatNumber, formatTime } from './dom.ts';
import { api, isStatic, RUNS_BAKED } from './data.ts';
import { failed, missing } from './problems.ts';

const PAGE = 50;
const SERVER_SORTS = new Set(['startTime', 'duration', 'status', 'pipeline', 'branch']);

interface TableState {
  filter: string;
  status: string;
  offset: number;
  sort: string;
  metrics: Set<string>;
  params: Set<string>;
  selected: Set<string>;
}

const state: TableState = { filter: '', status: '', offset: 0, sort: '-startTime', metrics: new Set(), params: new Set(), selected: new Set() };

/** A static export bakes every row once; its pages and sorting are made here instead of by the server. */
async function fetchPage(): Promise<{ status: number; json: unknown }> {
  const serverSort = SERVER_SORTS.has(state.sort.replace(/^-/, '')) ? state.sort : undefined;
  if (!isStatic) return api<RunsPage>('/api/runs', { filter: state.filter, status: state.status, offset: state.offset, limit: PAGE, sort: serverSort === '-startTime' ? undefined : serverSort });
  const all = await api<RunsPage>(RUNS_BAKED);
  if (all.status !== 200) return all;
  let runs = all.json.runs.filter((r) => !state.status || r.status === state.status);
  runs = sortRows(runs, state.sort);
  return { status: 200, json: { ...all.json, total: runs.length, offset: state.offset, runs: runs.slice(state.offset, state.offset + PAGE) } };
}

function cellValue(r: RunRow, col: string): number | string {
  if (col.startsWith('metrics.')) return r.metrics[col.slice(8)] ?? Number.NEGATIVE_INFINITY;
  if (col.startsWith('params.')) return text(r.params[col.slice(7)]);
  if (col === 'duration') return r.endTime === null ? Number.POSITIVE_INFINITY : r.endTime - r.startTime;
  if (col === 'branch') return r.git.branch ?? '';
  return (r as unknown as Record<string, number | string>)[col] ?? '';
}

function sortRows(rows: RunRow[], sort: string): RunRow[] {
  const col = sort.replace(/^-/, '');
  const dir = sort.startsWith('-') ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x = cellValue(a, col);
    const y = cellValue(b, col);
    return (x < y ? -1 : x > y ? 1 : 0) * dir;
  });
}

export function runsView(): HTMLElement {
  const body = el('div', { class: 'runs-body' });
  const columns = el('fieldset', { class: 'columns' });
  const compare = el('button', { type: 'button', disabled: true, on: { click: () => (location.hash = `#/compare/${[...state.selected].join(',')}`) } }, 'Compare selected');
  const filter = el('input', { type: 'search', id: 'runs-filter', value: state.filter, placeholder: "metrics.accuracy > 0.9 and params.seed = 1", 'aria-label': 'run filter', size: 50, disabled: isStatic });
  const statusSelect = el('select', { 'aria-label': 'status' }, ['', 'RUNNING', 'FINISHED', 'FAILED', 'KILLED'].map((s) => el('option', { value: s }, s || 'any status')));
  statusSelect.value = state.status;

  const updateCompare = () => {
    compare.disabled = state.selected.size < 2 || state.selected.size > 10;
    compare.textContent = `Compare selected (${state.selected.size})`;
  };

  const load = async () => {
    const a = await fetchPage();
    if (a.status !== 200) {
      replace(body, failed('The runs cannot be listed', a.json));
      return;
    }
    const page = a.json as RunsPage & { store: boolean };
    if (!page.store && !isStatic) {
      replace(body, missing('This project has no run store yet: no runs.', 'kiln run <pipeline>'));
      return;
    }
    if (page.total === 0) {
      replace(body, missing(state.filter || state.status ? 'No run matches.' : 'No runs yet.', state.filter || state.status ? 'kiln runs list' : 'kiln run <pipeline>'));
      return;
    }
    let rows = page.runs;
    if (!SERVER_SORTS.has(state.sort.replace(/^-/, ''))) rows = sortRows(rows, state.sort);
    replace(
      columns,
      el('legend', {}, 'Columns'),
      page.metricKeys.map((k) => checkbox(`metrics.${k}`, state.metrics, k)),
      page.paramKeys.map((k) => checkbox(`params.${k}`, state.params, k)),
    );
    const cols: Array<[string, string]> = [['id', 'run'], ['pipeline', 'pipeline'], ['status', 'status'], ['startTime', 'started'], ['duration', 'duration'], ['commit', 'commit'], ['branch', 'branch'], ['backend', 'backend'], ...[...state.metrics].map((m): [string, string] => [`metrics.${m}`, m]), ...[...state.params].map((p): [string, string] => [`params.${p}`, p])];
    const header = cols.map(([key, label]) => {
      const active = state.sort.replace(/^-/, '') === key;
      return el('th', { scope: 'col', 'aria-sort': active ? (state.sort.startsWith('-') ? 'descending' : 'ascending') : 'none' }, el('button', { type: 'button', class: 'sort', on: { click: () => ((state.sort = active && state.sort.startsWith('-') ? key : `-${key}`), void load()) } }, label, active ? (state.sort.startsWith('-') ? ' ▼' : ' ▲') : ''));
    });
    const line = (r: RunRow) =>
      el(
        'tr',
        { 'data-run': r.id },
        el('td', {}, el('input', { type: 'checkbox', 'aria-label': `select run ${r.shortId}`, checked: state.selected.has(r.id), on: { change: (e) => ((e.target as HTMLInputElement).checked ? state.selected.add(r.id) : state.selected.delete(r.id), updateCompare()) } })),
        el('td', {}, el('a', { href: `#/run/${r.id}` }, r.shortId)),
        el('td', {}, r.pipeline),
        el('td', {}, el('span', { class: `status ${r.status}` }, r.status)),
        el('td', {}, formatTime(r.startTime)),
        el('td', { class: 'num' }, formatDuration(r.startTime, r.endTime)),
        el('td', {}, r.git.commit ? `${r.git.commit.slice(0, 7)}${r.git.dirty ? '*' : ''}` : '-'),
        el('td', {}, r.git.branch ?? '-'),
        el('td', {}, r.backend ?? '-'),
        [...state.metrics].map((m) => el('td', { class: 'num' }, formatNumber(r.metrics[m]))),
        [...state.params].map((p) => el('td', {}, text(r.params[p]))),
      );
    replace(
      body,
      el('table', { class: 'runs' }, el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, el('span', { class: 'sr-only' }, 'select')), header)), el('tbody', {}, rows.map(line))),
      el(
        'nav',
        { class: 'pager', 'aria-label': 'pages' },
        el('button', { type: 'button', disabled: state.offset === 0, on: { click: () => ((state.offset = Math.max(0, state.offset - PAGE)), void load()) } }, '← newer'),
        el('span', {}, ` runs ${page.offset + 1}–${page.offset + rows.length} of ${page.total} `),
        el('button', { type: 'button', disabled: page.offset + PAGE >= page.total, on: { click: () => ((state.offset += PAGE), void load()) } }, 'older →'),
      ),
    );
    const running = rows.some((r) => r.status === 'RUNNING');
    // Live: while a run is in progress, the table follows it.
    if (running && !isStatic) setTimeout(() => document.body.contains(body) && void load(), 2000);
  };

  const checkbox = (id: string, set: Set<string>, key: string) =>
    el('label', {}, el('input', { type: 'checkbox', checked: set.has(key), on: { change: (e) => ((e.target as HTMLInputElement).checked ? set.add(key) : set.delete(key), void load()) } }), ` ${id}`);

  const form = el(
    'form',
    { class: 'controls', role: 'search', on: { submit: (e) => (e.preventDefault(), (state.filter = filter.value), (state.status = statusSelect.value), (state.offset = 0), void load()) } },
    el('label', { for: 'runs-filter' }, 'Filter '),
    filter,
    el('label', {}, ' Status ', statusSelect),
    el('button', { type: 'submit' }, 'Apply'),
    compare,
    isStatic ? el('span', { class: 'muted' }, ' (filters need the live kiln ui)') : null,
  );
  updateCompare();
  void load();
  return el('div', { class: 'runs-view' }, form, columns, body);
}
