// Runs as the UI shows them, read through the RunStore interface only (SQLite today, any store later): a page of
// the runs table, one run with its metric histories, and several runs compared.
import { filterToSql, type MetricPoint, type RunRecord, type RunStatus, type RunStore, type RunSummary } from '../tracking/index.ts';
import type { JsonValue } from '../ir/types.ts';
import { diag, KilnError } from '../diagnostics/index.ts';
import { comparison, type Comparison } from './comparison.ts';

export interface RunRow extends RunSummary {
  shortId: string;
  /** Latest value of every metric. */
  metrics: Record<string, number>;
  params: Record<string, JsonValue>;
  tags: Record<string, string>;
}

export interface RunsPage {
  total: number;
  offset: number;
  limit: number;
  runs: RunRow[];
  /** Metric and parameter keys of the runs on this page: the columns a user may add. */
  metricKeys: string[];
  paramKeys: string[];
}

export interface RunsQuery {
  filter?: string;
  status?: RunStatus;
  pipeline?: string;
  offset: number;
  limit: number;
  /** A summary field to sort all matching runs by, `-` first for descending: startTime, duration, status, pipeline. */
  sort?: string;
}

/** Most runs a table reads the summaries of; enough for 10,000-run stores. */
const MAX_LISTED = 100_000;
const SORTS = ['startTime', 'duration', 'status', 'pipeline', 'branch'] as const;

function sortKey(field: string, r: RunSummary): number | string {
  switch (field) {
    case 'duration':
      return r.endTime === null ? Number.POSITIVE_INFINITY : r.endTime - r.startTime;
    case 'status':
      return r.status;
    case 'pipeline':
      return r.pipeline;
    case 'branch':
      return r.git.branch ?? '';
    default:
      return r.startTime;
  }
}

export function checkSort(sort: string | undefined): void {
  if (sort === undefined) return;
  const field = sort.replace(/^-/, '');
  if (!(SORTS as readonly string[]).includes(field)) {
    throw new KilnError(diag('KILN8010', { name: 'sort', value: sort, reason: 'not a field the runs table sorts by', fix: `Sort by one of ${SORTS.join(', ')} (a leading - sorts descending); metric and parameter columns sort the page shown.` }));
  }
}

export async function runsPage(store: RunStore | null, q: RunsQuery): Promise<RunsPage> {
  // The filter is checked even without a store, so a typo is reported rather than answered with "no runs".
  if (q.filter) filterToSql(q.filter);
  checkSort(q.sort);
  let all: RunSummary[] = [];
  if (store) all = q.filter ? await store.searchRuns(q.filter, { limit: MAX_LISTED }) : await store.listRuns({ limit: MAX_LISTED, ...(q.status ? { status: q.status } : {}), ...(q.pipeline ? { pipeline: q.pipeline } : {}) });
  if (q.filter) all = all.filter((r) => (!q.status || r.status === q.status) && (!q.pipeline || r.pipeline === q.pipeline));
  if (q.sort) {
    const field = q.sort.replace(/^-/, '');
    const dir = q.sort.startsWith('-') ? -1 : 1;
    all = [...all].sort((a, b) => {
      const x = sortKey(field, a);
      const y = sortKey(field, b);
      return (x < y ? -1 : x > y ? 1 : 0) * dir;
    });
  }
  const page = all.slice(q.offset, q.offset + q.limit);
  const short = store && page.length ? await store.shortIds(page.map((r) => r.id)) : new Map<string, string>();
  const records = store ? await Promise.all(page.map((r) => store.getRun(r.id))) : [];
  const metricKeys = new Set<string>();
  const paramKeys = new Set<string>();
  const runs = page.map((r, i): RunRow => {
    const rec = records[i];
    for (const k of Object.keys(rec.metrics)) metricKeys.add(k);
    for (const k of Object.keys(rec.params)) paramKeys.add(k);
    return { ...r, shortId: short.get(r.id) ?? r.id, metrics: Object.fromEntries(Object.entries(rec.metrics).map(([k, m]) => [k, m.value])), params: rec.params, tags: rec.tags };
  });
  return { total: all.length, offset: q.offset, limit: q.limit, runs, metricKeys: [...metricKeys].sort(), paramKeys: [...paramKeys].sort() };
}

export interface ArtifactVerdict {
  model: string;
  /** 'passed', 'failed', or null when the run built no artifact of this model. */
  parity: string | null;
  digest: string | null;
  path: string | null;
}

export type { Comparison };

export interface RunDetail {
  run: RunRecord;
  shortId: string;
  histories: Record<string, MetricPoint[]>;
  artifacts: ArtifactVerdict[];
}

/** The artifact tags the build records (parity.<model>, digest.<model>, artifact.<model>), gathered per model. */
function artifacts(tags: Record<string, string>): ArtifactVerdict[] {
  const models = new Set(Object.keys(tags).filter((k) => /^(parity|digest|artifact)\./.test(k)).map((k) => k.slice(k.indexOf('.') + 1)));
  return [...models].sort().map((m) => ({ model: m, parity: tags[`parity.${m}`] ?? null, digest: tags[`digest.${m}`] ?? null, path: tags[`artifact.${m}`] ?? null }));
}

export async function runDetail(store: RunStore, id: string): Promise<RunDetail> {
  const run = await store.getRun(id);
  const keys = Object.keys(run.metrics).sort();
  const histories = Object.fromEntries(await Promise.all(keys.map(async (k) => [k, await store.metricHistory(run.id, k)] as const)));
  const short = await store.shortIds([run.id]);
  return { run, shortId: short.get(run.id) ?? run.id, histories, artifacts: artifacts(run.tags) };
}

export const COMPARE_MAX = 10;

export async function compareMany(store: RunStore, ids: string[]): Promise<Comparison> {
  if (ids.length < 2 || ids.length > COMPARE_MAX) {
    throw new KilnError(diag('KILN8010', { name: 'ids', value: ids.join(','), reason: `compare takes 2 to ${COMPARE_MAX} runs, not ${ids.length}`, fix: 'Pick 2 to 10 runs in the runs table (or give /api/compare?ids=<a>,<b>).' }));
  }
  return comparison(await Promise.all(ids.map((id) => runDetail(store, id))));
}
