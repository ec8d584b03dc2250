// The run store on PostgreSQL, for a team: the runs of every machine in one database, the objects in each machine's
// local folder (or a remote one behind the ObjectStore interface). Writes of one call are one statement or one
// transaction; a write to a run locks the run's row, so that a run finished elsewhere refuses late writes (KILN4010).
import pg from 'pg';
import { diag, KilnError } from '../../diagnostics/index.ts';
import type { ObjectStore } from '../objects.ts';
import { newRunId } from '../ids.ts';
import { currentProcess, runIsDead, runLeaseMs } from '../liveness.ts';
import { Heartbeats } from '../heartbeat.ts';
import { checkFileName, checkKey, flattenParams, paramColumns } from '../params.ts';
import { checkDatasets, checkHash, checkMetrics, checkTag, inputDatasets } from '../record-checks.ts';
import { maskCommand } from '../store-url.ts';
import type { ExecutionRow } from '../sqlite-queries.ts';
import type { CachedExecution, EndedNode, FinishNode, FinishRun, ListRuns, MetricPoint, NewRun, RunFile, RunRecord, RunStatus, RunStore, RunSummary, StartNode } from '../store.ts';
import { inTransaction, openPool, query, storeFailure, type PostgresTarget } from './connection.ts';
import { migratePostgres } from './migrations.ts';
import * as q from './queries.ts';
import { summary } from '../sqlite-queries.ts';
import type { JsonValue } from '../../ir/types.ts';

/** First key of the advisory locks that serialise processes joining one shared run (the second is the key's hash). */
const SHARED_RUN_LOCK = 0x6b72756e; // "krun"

export interface PostgresOpenOptions {
  /** Stop at this schema version instead of the latest (tests of migrations). */
  schemaVersion?: number;
  /** Heartbeat lease in milliseconds; KILN_RUN_LEASE_MS or ten minutes by default. */
  leaseMs?: number;
}

type Client = pg.PoolClient;

interface PendingMetrics {
  runId: string;
  keys: string[];
  values: Array<number | null>;
  step: number;
  timestamp: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class PostgresRunStore implements RunStore {
  readonly location: string;
  /** Runs found dead and marked KILLED when this store was opened. */
  readonly reapedOnOpen: string[] = [];
  private readonly heartbeats: Heartbeats;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly target: PostgresTarget,
    readonly objects: ObjectStore,
    private readonly leaseMs: number,
  ) {
    this.location = target.display;
    this.heartbeats = new Heartbeats((ids, now) => this.pool.query('UPDATE runs SET heartbeat = $1 WHERE id = ANY($2::text[]) AND status = $3', [now, ids, 'RUNNING']), leaseMs);
  }

  /** Connects, migrates (or refuses a newer schema) and reaps dead runs. */
  static async open(target: PostgresTarget, objects: ObjectStore, opts: PostgresOpenOptions = {}): Promise<PostgresRunStore> {
    const pool = openPool(target);
    const store = new PostgresRunStore(pool, target, objects, opts.leaseMs ?? runLeaseMs());
    try {
      let client: Client;
      try {
        client = await pool.connect();
      } catch (e) {
        throw storeFailure(e, target, 'connecting');
      }
      try {
        await migratePostgres(client, target.display, opts.schemaVersion);
      } catch (e) {
        throw storeFailure(e, target, 'bringing its schema up to date');
      } finally {
        client.release();
      }
      store.reapedOnOpen.push(...(await store.reapDeadRuns()));
    } catch (e) {
      await pool.end().catch(() => {});
      throw e;
    }
    return store;
  }

  private tx<T>(doing: string, fn: (c: Client) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, this.target, doing, fn);
  }

  private read<R extends pg.QueryResultRow>(doing: string, text: string, values: unknown[] = [], name?: string): Promise<R[]> {
    return query<R>(this.pool, this.target, doing, text, values, name);
  }

  /** Inside a write: locks the run's row; it must exist and be RUNNING. */
  private async lockRunning(c: Client, runId: string, action: string): Promise<void> {
    const row = (await c.query<{ status: RunStatus }>({ name: 'kiln-lock-run', text: 'SELECT status FROM runs WHERE id = $1 FOR UPDATE', values: [runId] })).rows[0];
    if (!row) throw new KilnError(diag('KILN4002', { id: runId, store: this.location }));
    if (row.status !== 'RUNNING') throw new KilnError(diag('KILN4010', { run: runId, status: row.status, action }));
  }

  async createRun(run: NewRun): Promise<RunSummary> {
    const id = await this.tx('recording a new run', (c) => this.insertRun(c, run, null));
    this.heartbeats.add(id);
    return summary((await this.guard('reading the new run', () => q.runRow(this.pool, id)))!);
  }

  async joinRun(key: string, run: NewRun): Promise<{ run: RunSummary; created: boolean }> {
    // A transaction-level advisory lock on the key serialises the processes that start together: the second waits for
    // the first's commit and finds its run. The unique index on run_key stands behind it.
    const { id, created } = await this.tx(`joining the shared run '${key}'`, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [SHARED_RUN_LOCK, key]);
      const found = (await c.query<{ id: string }>('SELECT id FROM runs WHERE run_key = $1', [key])).rows[0];
      return found ? { id: found.id, created: false } : { id: await this.insertRun(c, run, key), created: true };
    });
    return { run: summary((await this.guard('reading the shared run', () => q.runRow(this.pool, id)))!), created };
  }

  /** Inside a transaction: inserts a RUNNING run (shared under `key`, or owned by this process) and returns its id. */
  private async insertRun(c: Client, run: NewRun, key: string | null): Promise<string> {
    checkKey('pipeline', run.pipeline);
    const params = run.params ? flattenParams(run.params) : {};
    const tags = run.tags ?? {};
    for (const key of Object.keys(tags)) checkTag(key, tags[key]);
    const startTime = run.startTime ?? Date.now();
    const id = newRunId(startTime);
    const me = currentProcess();
    const g = run.git;
    {
      await c.query(
        `INSERT INTO runs (id, pipeline, status, start_time, git_root, git_commit, git_branch, git_dirty, git_diff_hash,
           command, invocation, kiln_version, node_version, tfjs_version, backend, hostname, pid, process_start, heartbeat, run_key)
         VALUES ($1, $2, 'RUNNING', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $3, $18)`,
        [
          id, run.pipeline, startTime, g?.root ?? null, g?.commit ?? null, g?.branch ?? null,
          g?.dirty === null || g?.dirty === undefined ? null : g.dirty ? 1 : 0, g?.diffHash ?? null,
          JSON.stringify(maskCommand(run.command)), run.invocation ? JSON.stringify(run.invocation) : null,
          run.versions.kiln, run.versions.node, run.versions.tfjs, run.backend, me.hostname, me.pid, me.start, key,
        ],
      );
      const files = g?.uncommitted ?? [];
      if (files.length) {
        await c.query('INSERT INTO run_uncommitted_files (run_id, path, status, blob) SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[])', [
          id, files.map((f) => f.path), files.map((f) => f.status), files.map((f) => f.blob ?? null),
        ]);
      }
      await this.insertParams(c, id, params);
      const entries = Object.entries(tags);
      if (entries.length) await c.query('INSERT INTO tags (run_id, key, value) SELECT $1, * FROM unnest($2::text[], $3::text[])', [id, entries.map((e) => e[0]), entries.map((e) => e[1])]);
    }
    return id;
  }

  private async insertParams(c: Client, runId: string, params: Record<string, JsonValue>): Promise<void> {
    const keys = Object.keys(params);
    if (keys.length === 0) return;
    const cols = keys.map((k) => paramColumns(params[k]));
    const existing = new Map((await c.query<{ key: string; value_json: string }>('SELECT key, value_json FROM params WHERE run_id = $1 AND key = ANY($2::text[])', [runId, keys])).rows.map((r) => [r.key, r.value_json]));
    const fresh: number[] = [];
    keys.forEach((key, i) => {
      const old = existing.get(key);
      if (old === undefined) fresh.push(i);
      else if (old !== cols[i].json) throw new KilnError(diag('KILN4004', { key, run: runId, old, value: cols[i].json }));
    });
    if (fresh.length === 0) return;
    await c.query('INSERT INTO params (run_id, key, value_json, value_text, value_num) SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::float8[])', [
      runId, fresh.map((i) => keys[i]), fresh.map((i) => cols[i].json), fresh.map((i) => cols[i].text), fresh.map((i) => cols[i].num),
    ]);
  }

  async logParams(runId: string, params: Record<string, unknown>): Promise<void> {
    const flat = flattenParams(params);
    await this.tx('recording parameters', async (c) => {
      await this.lockRunning(c, runId, 'record parameters');
      await this.insertParams(c, runId, flat);
    });
  }

  /** Metric points waiting for the statement in flight to end; written together by the next one. */
  private pendingMetrics: PendingMetrics[] = [];
  private metricsFlush: Promise<void> | null = null;

  async logMetrics(runId: string, metrics: Record<string, number>, opts: { step?: number; timestamp?: number } = {}): Promise<void> {
    const step = opts.step ?? 0;
    const timestamp = opts.timestamp ?? Date.now();
    checkMetrics(metrics, step);
    const keys = Object.keys(metrics);
    const values = keys.map((k) => (Number.isNaN(metrics[k]) ? null : metrics[k]));
    return new Promise<void>((resolve, reject) => {
      this.pendingMetrics.push({ runId, keys, values, step, timestamp, resolve, reject });
      this.metricsFlush ??= this.flushMetrics();
    });
  }

  /**
   * Writes the waiting points, one statement per batch (a round trip costs more than the rows): calls made while a
   * statement is in flight, as the run recorder makes them, share the next one. The runs' rows are locked first; the
   * points of a run are written only when it is RUNNING, and each call learns its run's status.
   */
  private async flushMetrics(): Promise<void> {
    while (this.pendingMetrics.length) {
      const batch = this.pendingMetrics.splice(0);
      const points = batch.flatMap((b) => b.keys.map((key, i) => ({ runId: b.runId, key, value: b.values[i], step: b.step, timestamp: b.timestamp })));
      // The latest point per run and key (highest step, then newest; a later call wins a tie), as SQLite keeps it.
      const latest = new Map<string, (typeof points)[number]>();
      for (const p of points) {
        const k = `${p.runId}\u0000${p.key}`;
        const cur = latest.get(k);
        if (!cur || p.step > cur.step || (p.step === cur.step && p.timestamp >= cur.timestamp)) latest.set(k, p);
      }
      const last = [...latest.values()];
      let statuses: Map<string, RunStatus>;
      try {
        const rows = await this.read<{ id: string; status: RunStatus }>(
          'recording metrics',
          `WITH run AS (SELECT id, status FROM runs WHERE id = ANY($1::text[]) FOR UPDATE),
                history AS (
                  INSERT INTO metrics (run_id, key, value, step, timestamp)
                  SELECT p.run_id, p.key, p.value, p.step, p.timestamp
                  FROM unnest($2::text[], $3::text[], $4::float8[], $5::bigint[], $6::bigint[]) WITH ORDINALITY AS p(run_id, key, value, step, timestamp, n)
                  JOIN run ON run.id = p.run_id AND run.status = 'RUNNING' ORDER BY p.n),
                latest AS (
                  INSERT INTO latest_metrics (run_id, key, value, step, timestamp)
                  SELECT l.run_id, l.key, l.value, l.step, l.timestamp
                  FROM unnest($7::text[], $8::text[], $9::float8[], $10::bigint[], $11::bigint[]) AS l(run_id, key, value, step, timestamp)
                  JOIN run ON run.id = l.run_id AND run.status = 'RUNNING'
                  ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value, step = excluded.step, timestamp = excluded.timestamp
                  WHERE excluded.step > latest_metrics.step OR (excluded.step = latest_metrics.step AND excluded.timestamp >= latest_metrics.timestamp))
           SELECT id, status FROM run`,
          [
            [...new Set(batch.map((b) => b.runId))],
            points.map((p) => p.runId), points.map((p) => p.key), points.map((p) => p.value), points.map((p) => p.step), points.map((p) => p.timestamp),
            last.map((p) => p.runId), last.map((p) => p.key), last.map((p) => p.value), last.map((p) => p.step), last.map((p) => p.timestamp),
          ],
          'kiln-log-metrics',
        );
        statuses = new Map(rows.map((r) => [r.id, r.status]));
      } catch (e) {
        for (const b of batch) b.reject(e);
        continue;
      }
      for (const b of batch) {
        const status = statuses.get(b.runId);
        if (status === undefined) b.reject(new KilnError(diag('KILN4002', { id: b.runId, store: this.location })));
        else if (status !== 'RUNNING') b.reject(new KilnError(diag('KILN4010', { run: b.runId, status, action: 'record metrics' })));
        else b.resolve();
      }
    }
    this.metricsFlush = null;
  }

  async setTag(runId: string, key: string, value: string): Promise<void> {
    checkTag(key, value);
    const id = await this.resolveRunId(runId);
    await this.read('recording a tag', 'INSERT INTO tags (run_id, key, value) VALUES ($1, $2, $3) ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value', [id, key, value]);
  }

  async logFile(runId: string, name: string, content: string | Uint8Array): Promise<RunFile> {
    checkFileName(name);
    // The object goes in first, so a recorded file never points at an object that is not there.
    const object = await this.objects.putBytes(content);
    return this.attachFile(runId, name, object);
  }

  async attachFile(runId: string, name: string, object: string): Promise<RunFile> {
    checkFileName(name);
    checkHash('file object', name, object);
    await this.objects.sync();
    const size = await this.objects.size(object);
    if (size === null) throw new KilnError(diag('KILN4015', { hash: object, path: this.objects.location }));
    const file: RunFile = { name, object, size, timestamp: Date.now() };
    await this.tx('recording a file', async (c) => {
      await this.lockRunning(c, runId, 'record files');
      await c.query(
        'INSERT INTO files (run_id, name, object, size, timestamp) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (run_id, name) DO UPDATE SET object = excluded.object, size = excluded.size, timestamp = excluded.timestamp',
        [runId, name, object, size, file.timestamp],
      );
    });
    return file;
  }

  /** Dataset rows of many executions in one statement. */
  private async insertDatasets(c: Client, rows: Array<{ id: number; direction: 'input' | 'output'; datasets: Record<string, { sha256: string; object?: string | null }> }>): Promise<void> {
    const ids: number[] = [];
    const directions: string[] = [];
    const names: string[] = [];
    const hashes: string[] = [];
    const objects: Array<string | null> = [];
    for (const r of rows) {
      for (const [dataset, d] of Object.entries(r.datasets)) {
        ids.push(r.id);
        directions.push(r.direction);
        names.push(dataset);
        hashes.push(d.sha256);
        objects.push(d.object ?? null);
      }
    }
    if (ids.length === 0) return;
    await c.query(
      {
        name: 'kiln-insert-datasets',
        text: `INSERT INTO node_datasets (execution_id, direction, dataset, sha256, object) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[])
               ON CONFLICT (execution_id, direction, dataset) DO UPDATE SET sha256 = excluded.sha256, object = excluded.object`,
        values: [ids, directions, names, hashes, objects],
      },
    );
  }

  async startNode(runId: string, node: string, start: StartNode): Promise<number> {
    checkKey('node', node);
    const inputs = inputDatasets(start.inputs);
    checkDatasets('input', inputs);
    return this.tx('recording a node execution', async (c) => {
      await this.lockRunning(c, runId, 'record node executions');
      const id = Number((await c.query<{ id: number }>("INSERT INTO node_executions (run_id, node, status, start_time, fingerprint) VALUES ($1, $2, 'RUNNING', $3, $4) RETURNING id", [runId, node, start.startTime ?? Date.now(), start.fingerprint])).rows[0].id);
      await this.insertDatasets(c, [{ id, direction: 'input', datasets: inputs }]);
      return id;
    });
  }

  async finishNode(executionId: number, result: FinishNode): Promise<void> {
    const inputs = inputDatasets(result.inputs);
    const outputs = result.outputs ?? {};
    checkDatasets('input', inputs);
    checkDatasets('output', outputs);
    await this.objects.sync();
    await this.tx('recording the end of a node execution', async (c) => {
      const row = (await c.query<{ run_id: string; status: RunStatus }>('SELECT run_id, status FROM node_executions WHERE id = $1 FOR UPDATE', [executionId])).rows[0];
      if (!row) throw new Error(`node execution ${executionId} does not exist`);
      if (row.status !== 'RUNNING') throw new KilnError(diag('KILN4010', { run: row.run_id, status: `${row.status} for node execution ${executionId}`, action: 'finish that node again' }));
      await c.query('UPDATE node_executions SET status = $1, end_time = $2, cache_hit = $3, error = $4 WHERE id = $5', [result.status, result.endTime ?? Date.now(), result.cacheHit ? 1 : 0, result.error ?? null, executionId]);
      await this.insertDatasets(c, [
        { id: executionId, direction: 'input', datasets: inputs },
        { id: executionId, direction: 'output', datasets: outputs },
      ]);
    });
  }

  async recordNodes(runId: string, nodes: readonly EndedNode[]): Promise<number[]> {
    const rows = nodes.map((n) => {
      checkKey('node', n.node);
      const inputs = inputDatasets({ ...n.start.inputs, ...n.finish.inputs });
      const outputs = n.finish.outputs ?? {};
      checkDatasets('input', inputs);
      checkDatasets('output', outputs);
      return { n, inputs, outputs, end: n.finish.endTime ?? Date.now() };
    });
    if (rows.length === 0) return [];
    await this.objects.sync();
    return this.tx('recording node executions', async (c) => {
      await this.lockRunning(c, runId, 'record node executions');
      // Ids are taken first, so that each dataset row knows its execution without relying on the order of RETURNING.
      const ids = (await c.query<{ id: number }>("SELECT nextval(pg_get_serial_sequence('node_executions', 'id')) AS id FROM generate_series(1, $1)", [rows.length])).rows.map((r) => Number(r.id));
      await c.query(
        {
          name: 'kiln-record-nodes',
          text: `INSERT INTO node_executions (id, run_id, node, status, start_time, end_time, fingerprint, cache_hit, error)
                 SELECT id, $1, node, status, start_time, end_time, fingerprint, cache_hit, error
                 FROM unnest($2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::text[], $8::int[], $9::text[])
                   AS x(id, node, status, start_time, end_time, fingerprint, cache_hit, error)`,
          values: [
            runId, ids, rows.map((r) => r.n.node), rows.map((r) => r.n.finish.status), rows.map((r) => r.n.start.startTime ?? r.end), rows.map((r) => r.end),
            rows.map((r) => r.n.start.fingerprint), rows.map((r) => (r.n.finish.cacheHit ? 1 : 0)), rows.map((r) => r.n.finish.error ?? null),
          ],
        },
      );
      await this.insertDatasets(c, rows.flatMap((r, i) => [
        { id: ids[i], direction: 'input' as const, datasets: r.inputs },
        { id: ids[i], direction: 'output' as const, datasets: r.outputs },
      ]));
      return ids;
    });
  }

  async findCachedExecution(node: string, fingerprint: string): Promise<CachedExecution | null> {
    const candidates = await this.read<ExecutionRow>(
      'looking up cached node executions',
      "SELECT * FROM node_executions WHERE node = $1 AND fingerprint = $2 AND status = 'FINISHED' ORDER BY end_time DESC, id DESC LIMIT 20",
      [node, fingerprint],
      'kiln-find-cached',
    );
    if (candidates.length === 0) return null;
    const datasets = await q.datasetsOf(this.pool, candidates.map((c) => Number(c.id))).catch((e: unknown) => {
      throw storeFailure(e, this.target, 'looking up cached node executions');
    });
    for (const c of candidates) {
      const { inputs, outputs } = datasets.get(Number(c.id))!;
      const restorable: CachedExecution['outputs'] = {};
      let complete = true;
      // Another machine may have recorded the execution: its outputs are usable only when this machine has them.
      for (const [name, o] of Object.entries(outputs)) {
        if (!o.object || !(await this.objects.hasComplete(o.object))) {
          complete = false;
          break;
        }
        restorable[name] = { sha256: o.sha256, object: o.object };
      }
      if (complete) return { executionId: Number(c.id), runId: c.run_id, node: c.node, fingerprint, endTime: c.end_time ?? c.start_time, inputs, outputs: restorable };
    }
    return null;
  }

  async setBackend(runId: string, backend: string | null, tfjs: string | null): Promise<void> {
    await this.tx('recording the backend', async (c) => {
      await this.lockRunning(c, runId, 'record its backend');
      await c.query('UPDATE runs SET backend = $1, tfjs_version = $2 WHERE id = $3', [backend, tfjs, runId]);
    });
  }

  async finishRun(runId: string, outcome: FinishRun): Promise<void> {
    if (!['FINISHED', 'FAILED', 'KILLED'].includes(outcome.status)) throw new Error(`finishRun: '${outcome.status}' is not a final status`);
    const end = outcome.endTime ?? Date.now();
    await this.tx(`marking run ${runId} ${outcome.status}`, async (c) => {
      await this.lockRunning(c, runId, `mark it ${outcome.status}`);
      let { status, error } = outcome;
      if (status === 'FINISHED') {
        // A run is FINISHED only when every node it started finished: one that failed, or never ended, fails the run.
        // In a shared run a task may be retried: a node whose later attempt finished is done, the earlier one's row aside.
        const unfinished = (
          await c.query<{ node: string; status: string }>(
            "SELECT node, status FROM node_executions WHERE run_id = $1 AND status IN ('FAILED', 'RUNNING', 'KILLED') AND node NOT IN (SELECT node FROM node_executions WHERE run_id = $1 AND status = 'FINISHED') ORDER BY id",
            [runId],
          )
        ).rows;
        if (unfinished.length) {
          status = 'FAILED';
          error = `node ${unfinished.map((x) => `'${x.node}' ${x.status === 'RUNNING' ? 'did not end' : x.status.toLowerCase()}`).join(', ')}`;
        }
      }
      await c.query('UPDATE runs SET status = $1, end_time = $2, error = $3 WHERE id = $4', [status, end, error ?? null, runId]);
      await c.query("UPDATE node_executions SET status = $1, end_time = $2 WHERE run_id = $3 AND status = 'RUNNING'", [status === 'KILLED' ? 'KILLED' : 'FAILED', end, runId]);
    });
    this.heartbeats.remove(runId);
  }

  async reapDeadRuns(): Promise<string[]> {
    const now = Date.now();
    // Last sign of life: the heartbeat, or the newest thing the run wrote (runs recorded before heartbeats).
    const running = await this.read<{ id: string; hostname: string; pid: number; process_start: string | null; last_seen: number }>(
      'looking for runs whose process ended',
      `SELECT r.id, r.hostname, r.pid, r.process_start,
              GREATEST(r.start_time, coalesce(r.heartbeat, 0),
                       coalesce((SELECT max(coalesce(end_time, start_time)) FROM node_executions WHERE run_id = r.id), 0),
                       coalesce((SELECT max(timestamp) FROM metrics WHERE run_id = r.id), 0),
                       coalesce((SELECT max(timestamp) FROM files WHERE run_id = r.id), 0)) AS last_seen
       FROM runs r WHERE r.status = 'RUNNING' AND r.run_key IS NULL`,
    );
    const dead = running.filter((r) => runIsDead({ hostname: r.hostname, pid: r.pid, start: r.process_start, lastSeen: r.last_seen }, now, this.leaseMs));
    const reaped: string[] = [];
    for (const r of dead) {
      const reason = r.hostname === currentProcess().hostname ? `process ${r.pid} on ${r.hostname} ended without finishing the run` : `process ${r.pid} on ${r.hostname} stopped beating (no sign of life for over ${Math.round(this.leaseMs / 1000)} s)`;
      const changed = await this.tx('marking dead runs KILLED', async (c) => {
        // The heartbeat is read again under the row lock: a run that beat since the look-up above is alive.
        const n = (await c.query("UPDATE runs SET status = 'KILLED', end_time = $1, error = $2 WHERE id = $3 AND status = 'RUNNING' AND coalesce(heartbeat, 0) <= $1", [r.last_seen, reason, r.id])).rowCount ?? 0;
        if (n > 0) await c.query("UPDATE node_executions SET status = 'KILLED', end_time = $1 WHERE run_id = $2 AND status = 'RUNNING'", [r.last_seen, r.id]);
        return n;
      });
      if (changed > 0) reaped.push(r.id);
    }
    return reaped;
  }

  async resolveRunId(idOrPrefix: string): Promise<string> {
    return this.guard('finding a run', () => q.resolveRunId(this.pool, this.location, idOrPrefix));
  }

  async getRun(idOrPrefix: string): Promise<RunRecord> {
    const id = await this.resolveRunId(idOrPrefix);
    // One snapshot for the several queries a record takes.
    return this.tx('reading a run', async (c) => {
      await c.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
      return q.readRun(c, id);
    });
  }

  async listRuns(query: ListRuns = {}): Promise<RunSummary[]> {
    return this.guard('listing runs', () => q.listRuns(this.pool, query));
  }

  async latestFinishedRun(pipeline: string, commit: string, opts: { clean?: boolean } = {}): Promise<RunSummary | null> {
    return (await this.finishedRuns(pipeline, commit, { clean: opts.clean ?? false, limit: 1 }))[0] ?? null;
  }

  async finishedRuns(pipeline: string, commit: string, opts: { clean?: boolean; limit?: number } = {}): Promise<RunSummary[]> {
    return this.guard('listing finished runs', () => q.finishedRuns(this.pool, pipeline, commit, opts.clean ?? false, opts.limit ?? 20));
  }

  async searchRuns(filter: string, opts: { limit?: number } = {}): Promise<RunSummary[]> {
    return this.guard('searching runs', () => q.searchRuns(this.pool, filter, opts.limit ?? 1000));
  }

  async metricHistory(runId: string, key: string): Promise<MetricPoint[]> {
    const id = await this.resolveRunId(runId);
    return this.guard('reading a metric history', () => q.metricHistory(this.pool, id, key));
  }

  async shortIds(ids: readonly string[], minLength = 8): Promise<Map<string, string>> {
    return this.guard('reading run ids', () => q.shortIds(this.pool, ids, minLength));
  }

  private async guard<T>(doing: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw storeFailure(e, this.target, doing);
    }
  }

  /** Closes the pool once its queries end; the runs still RUNNING stop beating. */
  close(): void {
    this.heartbeats.stop();
    void this.pool.end().catch(() => {});
  }
}
