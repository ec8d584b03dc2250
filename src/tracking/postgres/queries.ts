// The reading side of the PostgreSQL run store: the same rows as SQLite's (../sqlite-queries.ts turns them into
// records), fetched with numbered parameters.
import type pg from 'pg';
import { diag, KilnError } from '../../diagnostics/index.ts';
import { normaliseRunIdInput, isRunIdPrefix, RUN_ID_LENGTH } from '../ids.ts';
import { filterToSql } from '../filter.ts';
import type { UncommittedFile } from '../git.ts';
import { LATEST_METRICS_SQL, runRecordOf, summary, type ExecutionRow, type RunRecordRows, type RunRow } from '../sqlite-queries.ts';
import { RUN_STATUSES, type ListRuns, type MetricPoint, type NodeExecution, type RunFile, type RunRecord, type RunSummary } from '../store.ts';

/** What the queries run on: the pool, or one connection inside a transaction. */
export type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

/** A metric stored as NULL was NaN (as in SQLite). */
const toNumber = (v: number | null): number => (v === null ? NaN : v);

async function rows<R extends pg.QueryResultRow>(db: Queryable, text: string, values: unknown[] = []): Promise<R[]> {
  return (await db.query<R>(text, values)).rows;
}

export async function runRow(db: Queryable, id: string): Promise<RunRow | undefined> {
  return (await rows<RunRow>(db, 'SELECT * FROM runs WHERE id = $1', [id]))[0];
}

type DatasetRow = { execution_id: number; direction: 'input' | 'output'; dataset: string; sha256: string; object: string | null };

/** Inputs and outputs of each execution in `ids`, in one query. */
export async function datasetsOf(db: Queryable, ids: readonly number[]): Promise<Map<number, Pick<NodeExecution, 'inputs' | 'outputs'>>> {
  const out = new Map<number, Pick<NodeExecution, 'inputs' | 'outputs'>>();
  for (const id of ids) out.set(id, { inputs: {}, outputs: {} });
  if (ids.length === 0) return out;
  for (const r of await rows<DatasetRow>(db, 'SELECT execution_id, direction, dataset, sha256, object FROM node_datasets WHERE execution_id = ANY($1::bigint[]) ORDER BY execution_id, dataset', [ids])) {
    const e = out.get(Number(r.execution_id))!;
    if (r.direction === 'input') e.inputs[r.dataset] = r.sha256;
    else e.outputs[r.dataset] = { sha256: r.sha256, object: r.object };
  }
  return out;
}

export async function resolveRunId(db: Queryable, location: string, input: string): Promise<string> {
  const prefix = normaliseRunIdInput(input);
  const notFound = () => new KilnError(diag('KILN4002', { id: input, store: location }));
  if (!isRunIdPrefix(prefix)) throw notFound();
  if (prefix.length === RUN_ID_LENGTH) {
    if (await runRow(db, prefix)) return prefix;
    throw notFound();
  }
  // Ids compare byte-wise (COLLATE "C"): [prefix, prefix~) is exactly the ids that start with prefix.
  const found = await rows<{ id: string }>(db, 'SELECT id FROM runs WHERE id >= $1 AND id < $2 ORDER BY id DESC LIMIT 6', [prefix, prefix + '~']);
  if (found.length === 0) throw notFound();
  if (found.length > 1) {
    const count = (await rows<{ n: number }>(db, 'SELECT count(*) AS n FROM runs WHERE id >= $1 AND id < $2', [prefix, prefix + '~']))[0].n;
    const shown = found.slice(0, 5).map((r) => r.id);
    throw new KilnError(diag('KILN4003', { id: input, count, matches: shown.join(', ') + (count > shown.length ? ', …' : '') }));
  }
  return found[0].id;
}

/** Everything about run `id` (which exists); call on a connection inside a REPEATABLE READ transaction. */
export async function readRun(db: Queryable, id: string): Promise<RunRecord> {
  const r = (await runRow(db, id))!;
  const executions = await rows<ExecutionRow>(db, 'SELECT * FROM node_executions WHERE run_id = $1 ORDER BY id', [id]);
  const datasets = await datasetsOf(db, executions.map((e) => Number(e.id)));
  const nodes: NodeExecution[] = executions.map((e) => ({
    id: Number(e.id),
    node: e.node,
    status: e.status,
    startTime: e.start_time,
    endTime: e.end_time,
    fingerprint: e.fingerprint,
    cacheHit: e.cache_hit === 1,
    error: e.error,
    ...datasets.get(Number(e.id))!,
  }));
  return runRecordOf(r, {
    params: await rows<RunRecordRows['params'][number]>(db, 'SELECT key, value_json FROM params WHERE run_id = $1 ORDER BY key', [id]),
    metrics: await rows<RunRecordRows['metrics'][number]>(db, LATEST_METRICS_SQL('$1'), [id]),
    tags: await rows<RunRecordRows['tags'][number]>(db, 'SELECT key, value FROM tags WHERE run_id = $1 ORDER BY key', [id]),
    nodes,
    files: await rows<RunFile>(db, 'SELECT name, object, size, timestamp FROM files WHERE run_id = $1 ORDER BY name', [id]),
    uncommitted: await rows<UncommittedFile>(db, 'SELECT path, status, blob FROM run_uncommitted_files WHERE run_id = $1 ORDER BY path', [id]),
  });
}

export async function listRuns(db: Queryable, query: ListRuns): Promise<RunSummary[]> {
  const where: string[] = [];
  const args: Array<string | number> = [];
  if (query.pipeline !== undefined) {
    args.push(query.pipeline);
    where.push(`pipeline = $${args.length}`);
  }
  if (query.status !== undefined) {
    if (!RUN_STATUSES.includes(query.status)) {
      throw new KilnError(diag('KILN4011', { what: 'run status', name: String(query.status), reason: 'it is not a run status', fix: `Run statuses: ${RUN_STATUSES.join(', ')}.` }));
    }
    args.push(query.status);
    where.push(`status = $${args.length}`);
  }
  args.push(query.limit ?? 100);
  return (await rows<RunRow>(db, `SELECT * FROM runs ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT $${args.length}`, args)).map(summary);
}

export async function finishedRuns(db: Queryable, pipeline: string, commit: string, clean: boolean, limit: number): Promise<RunSummary[]> {
  const sql = `SELECT * FROM runs WHERE pipeline = $1 AND git_commit = $2 AND status = 'FINISHED' ${clean ? 'AND git_dirty = 0' : ''} ORDER BY id DESC LIMIT $3`;
  return (await rows<RunRow>(db, sql, [pipeline, commit, limit])).map(summary);
}

export async function searchRuns(db: Queryable, filter: string, limit: number): Promise<RunSummary[]> {
  const cond = filterToSql(filter, 'postgres');
  return (await rows<RunRow>(db, `SELECT r.* FROM runs r WHERE ${cond.where} ORDER BY r.id DESC LIMIT $${cond.params.length + 1}`, [...cond.params, limit])).map(summary);
}

export async function metricHistory(db: Queryable, id: string, key: string): Promise<MetricPoint[]> {
  const found = await rows<{ value: number | null; step: number; timestamp: number }>(db, 'SELECT value, step, timestamp FROM metrics WHERE run_id = $1 AND key = $2 ORDER BY step, timestamp, id', [id, key]);
  return found.map((r) => ({ value: toNumber(r.value), step: r.step, timestamp: r.timestamp }));
}

/** Shortest unique prefixes: an id only needs to differ from its two neighbours in sort order. */
export async function shortIds(db: Queryable, ids: readonly string[], minLength: number): Promise<Map<string, string>> {
  const common = (a: string, b: string | null) => {
    if (!b) return 0;
    let i = 0;
    while (i < a.length && a[i] === b[i]) i++;
    return i;
  };
  const out = new Map<string, string>();
  if (ids.length === 0) return out;
  const neighbours = await rows<{ id: string; prev: string | null; next: string | null }>(
    db,
    `SELECT x.id, (SELECT max(id) FROM runs WHERE id < x.id) AS prev, (SELECT min(id) FROM runs WHERE id > x.id) AS next
     FROM unnest($1::text[]) AS x(id)`,
    [ids],
  );
  for (const { id, prev, next } of neighbours) out.set(id, id.slice(0, Math.min(id.length, Math.max(minLength, common(id, prev) + 1, common(id, next) + 1))));
  return out;
}
