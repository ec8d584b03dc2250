// The reading side of the SQLite run store: rows to records, id prefixes, lists and searches.
import type Database from 'better-sqlite3';
import type { JsonValue } from '../ir/types.ts';
import { diag, KilnError } from '../diagnostics/index.ts';
import { normaliseRunIdInput, isRunIdPrefix, RUN_ID_LENGTH } from './ids.ts';
import { filterToSql } from './filter.ts';
import type { UncommittedFile } from './git.ts';
import { RUN_STATUSES, type LatestMetric, type ListRuns, type MetricPoint, type NodeExecution, type RunFile, type RunInvocation, type RunRecord, type RunStatus, type RunSummary } from './store.ts';

export interface RunRow {
  id: string;
  pipeline: string;
  status: RunStatus;
  start_time: number;
  end_time: number | null;
  error: string | null;
  git_commit: string | null;
  git_branch: string | null;
  git_dirty: 0 | 1 | null;
  git_diff_hash: string | null;
  command: string;
  /** Absent in a store at schema version 2 or older. */
  invocation?: string | null;
  kiln_version: string | null;
  node_version: string | null;
  tfjs_version: string | null;
  backend: string | null;
  hostname: string;
  pid: number;
  process_start: string | null;
}

export interface ExecutionRow {
  id: number;
  run_id: string;
  node: string;
  status: RunStatus;
  start_time: number;
  end_time: number | null;
  fingerprint: string | null;
  cache_hit: 0 | 1;
  error: string | null;
}

export function summary(r: RunRow): RunSummary {
  return {
    id: r.id,
    pipeline: r.pipeline,
    status: r.status,
    startTime: r.start_time,
    endTime: r.end_time,
    error: r.error,
    git: { commit: r.git_commit, branch: r.git_branch, dirty: r.git_dirty === null ? null : r.git_dirty === 1, diffHash: r.git_diff_hash },
    backend: r.backend,
  };
}

/** SQLite has no NaN: a metric stored as NULL was NaN. */
const toNumber = (v: number | null): number => (v === null ? NaN : v);

export function runRow(db: Database.Database, id: string): RunRow | undefined {
  return db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
}

export const DATASETS_OF_EXECUTION = 'SELECT direction, dataset, sha256, object FROM node_datasets WHERE execution_id = ? ORDER BY dataset';

/**
 * The newest 20 successful executions of a node with a fingerprint (what a cache lookup tries, newest first), each
 * with its datasets: one row per dataset, or one row with no dataset for an execution that has none.
 */
export const CACHE_CANDIDATES = `
  SELECT e.id, e.run_id, e.node, e.status, e.start_time, e.end_time, e.fingerprint, e.cache_hit, e.error,
         d.direction, d.dataset, d.sha256, d.object
  FROM (SELECT * FROM node_executions WHERE node = ? AND fingerprint = ? AND status = 'FINISHED' ORDER BY end_time DESC, id DESC LIMIT 20) e
  LEFT JOIN node_datasets d ON d.execution_id = e.id
  ORDER BY e.end_time DESC, e.id DESC, d.dataset`;

export type CandidateRow = ExecutionRow & { direction: 'input' | 'output' | null; dataset: string | null; sha256: string | null; object: string | null };

/** CACHE_CANDIDATES' rows grouped back into executions, in the query's order. */
export function candidatesOf(rows: CandidateRow[]): Array<{ execution: ExecutionRow } & Pick<NodeExecution, 'inputs' | 'outputs'>> {
  const out: Array<{ execution: ExecutionRow } & Pick<NodeExecution, 'inputs' | 'outputs'>> = [];
  for (const r of rows) {
    let last = out[out.length - 1];
    if (!last || last.execution.id !== r.id) {
      last = { execution: { id: r.id, run_id: r.run_id, node: r.node, status: r.status, start_time: r.start_time, end_time: r.end_time, fingerprint: r.fingerprint, cache_hit: r.cache_hit, error: r.error }, inputs: {}, outputs: {} };
      out.push(last);
    }
    if (r.dataset === null) continue;
    if (r.direction === 'input') last.inputs[r.dataset] = r.sha256!;
    else last.outputs[r.dataset] = { sha256: r.sha256!, object: r.object };
  }
  return out;
}

/** `prepared` is DATASETS_OF_EXECUTION prepared already, for callers that ask for many executions. */
export function datasetsOf(db: Database.Database, executionId: number, prepared?: Database.Statement): Pick<NodeExecution, 'inputs' | 'outputs'> {
  const rows = (prepared ?? db.prepare(DATASETS_OF_EXECUTION)).all(executionId) as Array<{
    direction: 'input' | 'output';
    dataset: string;
    sha256: string;
    object: string | null;
  }>;
  const inputs: Record<string, string> = {};
  const outputs: Record<string, { sha256: string; object: string | null }> = {};
  for (const r of rows) {
    if (r.direction === 'input') inputs[r.dataset] = r.sha256;
    else outputs[r.dataset] = { sha256: r.sha256, object: r.object };
  }
  return { inputs, outputs };
}

/** The full id of the one run whose id starts with `input` (case and Crockford look-alikes forgiven). */
export function resolveRunId(db: Database.Database, location: string, input: string): string {
  const prefix = normaliseRunIdInput(input);
  const notFound = () => new KilnError(diag('KILN4002', { id: input, store: location }));
  if (!isRunIdPrefix(prefix)) throw notFound();
  if (prefix.length === RUN_ID_LENGTH) {
    if (runRow(db, prefix)) return prefix;
    throw notFound();
  }
  // '~' sorts after every id character, so [prefix, prefix~) is exactly the ids starting with prefix (and uses the index).
  const rows = db.prepare('SELECT id FROM runs WHERE id >= ? AND id < ? ORDER BY id DESC LIMIT 6').all(prefix, prefix + '~') as Array<{ id: string }>;
  if (rows.length === 0) throw notFound();
  if (rows.length > 1) {
    const count = (db.prepare('SELECT count(*) AS n FROM runs WHERE id >= ? AND id < ?').get(prefix, prefix + '~') as { n: number }).n;
    const shown = rows.slice(0, 5).map((r) => r.id);
    throw new KilnError(diag('KILN4003', { id: input, count, matches: shown.join(', ') + (count > shown.length ? ', …' : '') }));
  }
  return rows[0].id;
}

/** The rows of one run as both stores read them (params, latest metrics with their history length, tags, files…). */
export interface RunRecordRows {
  params: Array<{ key: string; value_json: string }>;
  metrics: Array<{ key: string; value: number | null; step: number; timestamp: number; n: number }>;
  tags: Array<{ key: string; value: string }>;
  nodes: NodeExecution[];
  files: RunFile[];
  uncommitted: UncommittedFile[];
}

/** SQL of a run's latest metrics with the length of each one's history, in key order; `run` is the id's placeholder. */
export const LATEST_METRICS_SQL = (run: string) =>
  `SELECT l.key, l.value, l.step, l.timestamp, (SELECT count(*) FROM metrics m WHERE m.run_id = l.run_id AND m.key = l.key) AS n FROM latest_metrics l WHERE l.run_id = ${run} ORDER BY l.key`;

/** A run record from its row and the rows that belong to it: one assembly for the SQLite and PostgreSQL stores. */
export function runRecordOf(r: RunRow, rows: RunRecordRows): RunRecord {
  const params: Record<string, JsonValue> = {};
  for (const p of rows.params) params[p.key] = JSON.parse(p.value_json) as JsonValue;
  const metrics: Record<string, LatestMetric> = {};
  for (const m of rows.metrics) metrics[m.key] = { value: toNumber(m.value), step: m.step, timestamp: m.timestamp, historyLength: Number(m.n) };
  const tags: Record<string, string> = {};
  for (const t of rows.tags) tags[t.key] = t.value;
  const base = summary(r);
  return {
    ...base,
    git: { ...base.git, uncommitted: rows.uncommitted },
    command: JSON.parse(r.command) as string[],
    invocation: r.invocation == null ? null : (JSON.parse(r.invocation) as RunInvocation),
    versions: { kiln: r.kiln_version ?? '', node: r.node_version ?? '', tfjs: r.tfjs_version },
    host: { hostname: r.hostname, pid: r.pid },
    params,
    metrics,
    tags,
    nodes: rows.nodes,
    files: rows.files,
  };
}

/** Everything about run `id` (which exists); call inside a read transaction for one consistent snapshot. */
export function readRun(db: Database.Database, id: string): RunRecord {
  const nodes: NodeExecution[] = (db.prepare('SELECT * FROM node_executions WHERE run_id = ? ORDER BY id').all(id) as ExecutionRow[]).map((e) => ({
    id: e.id,
    node: e.node,
    status: e.status,
    startTime: e.start_time,
    endTime: e.end_time,
    fingerprint: e.fingerprint,
    cacheHit: e.cache_hit === 1,
    error: e.error,
    ...datasetsOf(db, e.id),
  }));
  return runRecordOf(runRow(db, id)!, {
    params: db.prepare('SELECT key, value_json FROM params WHERE run_id = ? ORDER BY key').all(id) as RunRecordRows['params'],
    metrics: db.prepare(LATEST_METRICS_SQL('?')).all(id) as RunRecordRows['metrics'],
    tags: db.prepare('SELECT key, value FROM tags WHERE run_id = ? ORDER BY key').all(id) as RunRecordRows['tags'],
    nodes,
    files: db.prepare('SELECT name, object, size, timestamp FROM files WHERE run_id = ? ORDER BY name').all(id) as RunFile[],
    uncommitted: db.prepare('SELECT path, status, blob FROM run_uncommitted_files WHERE run_id = ? ORDER BY path').all(id) as UncommittedFile[],
  });
}

export function listRuns(db: Database.Database, query: ListRuns): RunSummary[] {
  const where: string[] = [];
  const args: Array<string | number> = [];
  if (query.pipeline !== undefined) {
    where.push('pipeline = ?');
    args.push(query.pipeline);
  }
  if (query.status !== undefined) {
    if (!RUN_STATUSES.includes(query.status)) {
      throw new KilnError(diag('KILN4011', { what: 'run status', name: String(query.status), reason: 'it is not a run status', fix: `Run statuses: ${RUN_STATUSES.join(', ')}.` }));
    }
    where.push('status = ?');
    args.push(query.status);
  }
  const sql = `SELECT * FROM runs ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT ?`;
  return (db.prepare(sql).all(...args, query.limit ?? 100) as RunRow[]).map(summary);
}

export function latestFinishedRun(db: Database.Database, pipeline: string, commit: string, clean: boolean): RunSummary | null {
  return finishedRuns(db, pipeline, commit, clean, 1)[0] ?? null;
}

export function finishedRuns(db: Database.Database, pipeline: string, commit: string, clean: boolean, limit: number): RunSummary[] {
  const rows = db
    .prepare(`SELECT * FROM runs WHERE pipeline = ? AND git_commit = ? AND status = 'FINISHED' ${clean ? 'AND git_dirty = 0' : ''} ORDER BY id DESC LIMIT ?`)
    .all(pipeline, commit, limit) as RunRow[];
  return rows.map(summary);
}

export function searchRuns(db: Database.Database, filter: string, limit: number): RunSummary[] {
  const cond = filterToSql(filter);
  return (db.prepare(`SELECT r.* FROM runs r WHERE ${cond.where} ORDER BY r.id DESC LIMIT ?`).all(...cond.params, limit) as RunRow[]).map(summary);
}

export function metricHistory(db: Database.Database, id: string, key: string): MetricPoint[] {
  const rows = db.prepare('SELECT value, step, timestamp FROM metrics WHERE run_id = ? AND key = ? ORDER BY step, timestamp, id').all(id, key) as Array<{
    value: number | null;
    step: number;
    timestamp: number;
  }>;
  return rows.map((r) => ({ value: toNumber(r.value), step: r.step, timestamp: r.timestamp }));
}

/** Shortest unique prefixes: an id only needs to differ from its two neighbours in sort order. */
export function shortIds(db: Database.Database, ids: readonly string[], minLength: number): Map<string, string> {
  const before = db.prepare('SELECT max(id) AS id FROM runs WHERE id < ?');
  const after = db.prepare('SELECT min(id) AS id FROM runs WHERE id > ?');
  const common = (a: string, b: string | null) => {
    if (!b) return 0;
    let i = 0;
    while (i < a.length && a[i] === b[i]) i++;
    return i;
  };
  const out = new Map<string, string>();
  for (const id of ids) {
    const prev = (before.get(id) as { id: string | null }).id;
    const next = (after.get(id) as { id: string | null }).id;
    const n = Math.min(id.length, Math.max(minLength, common(id, prev) + 1, common(id, next) + 1));
    out.set(id, id.slice(0, n));
  }
  return out;
}
