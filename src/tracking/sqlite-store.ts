// The run store on SQLite: <store>/kiln.db beside the object store <store>/objects. Safe for several kiln processes at
// once (see sqlite.ts); runs whose process died are marked KILLED when the store is opened.
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { JsonValue } from '../ir/types.ts';
import { diag, KilnError } from '../diagnostics/index.ts';
import { SqliteDatabase, type SqliteOpenOptions } from './sqlite.ts';
import { LocalObjectStore, type ObjectStore } from './objects.ts';
import { newRunId } from './ids.ts';
import { currentProcess, runIsDead, runLeaseMs } from './liveness.ts';
import { Heartbeats } from './heartbeat.ts';
import { SCHEMA_VERSION } from './migrations.ts';
import { checkFileName, checkKey, flattenParams, paramColumns } from './params.ts';
import { checkDatasets, checkHash, checkMetrics, checkTag, inputDatasets } from './record-checks.ts';
import { maskCommand } from './store-url.ts';
import * as q from './sqlite-queries.ts';
import type { CachedExecution, EndedNode, FinishNode, FinishRun, ListRuns, MetricPoint, NewRun, RunFile, RunRecord, RunStatus, RunStore, RunSummary, StartNode } from './store.ts';

export const STORE_DATABASE = 'kiln.db';
export const STORE_OBJECTS = 'objects';

export class SqliteRunStore implements RunStore {
  readonly location: string;
  readonly objects: ObjectStore;
  readonly database: SqliteDatabase;
  /** Runs found dead and marked KILLED when this store was opened. */
  readonly reapedOnOpen: string[];
  /** The schema the store was opened at: heartbeats need version 6. */
  private readonly schemaVersion: number;
  private readonly heartbeats: Heartbeats;

  private constructor(database: SqliteDatabase, objects: ObjectStore, schemaVersion: number) {
    this.database = database;
    this.location = database.file;
    this.objects = objects;
    this.reapedOnOpen = [];
    this.schemaVersion = schemaVersion;
    this.heartbeats = new Heartbeats((ids, now) => {
      if (this.schemaVersion < 5 || !this.db.open) return;
      const beat = this.stmt("UPDATE runs SET heartbeat = ? WHERE id = ? AND status = 'RUNNING'");
      this.database.write(() => ids.forEach((id) => beat.run(now, id)));
    });
  }

  /** Opens (creating if needed) the store in `storeDir` (`<project>/.kiln`): migrates it and reaps dead runs. */
  static open(storeDir: string, opts: SqliteOpenOptions & { objects?: ObjectStore } = {}): SqliteRunStore {
    const database = SqliteDatabase.open(path.join(storeDir, STORE_DATABASE), opts);
    const store = new SqliteRunStore(database, opts.objects ?? new LocalObjectStore(path.join(storeDir, STORE_OBJECTS)), opts.schemaVersion ?? SCHEMA_VERSION);
    try {
      store.reapedOnOpen.push(...store.reap());
      if (store.objects instanceof LocalObjectStore) store.objects.sweepDeadTemporaries();
    } catch (e) {
      database.close();
      throw e;
    }
    return store;
  }

  private get db() {
    return this.database.db;
  }

  private readonly statements = new Map<string, Database.Statement>();

  /** A prepared statement, prepared once per connection: preparing cost more than running the small writes of a node. */
  private stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  /** Inside a write: the run must exist and be RUNNING. */
  private assertRunning(runId: string, action: string): void {
    const row = this.stmt('SELECT status FROM runs WHERE id = ?').get(runId) as { status: RunStatus } | undefined;
    if (!row) throw new KilnError(diag('KILN4002', { id: runId, store: this.location }));
    if (row.status !== 'RUNNING') throw new KilnError(diag('KILN4010', { run: runId, status: row.status, action }));
  }

  async createRun(run: NewRun): Promise<RunSummary> {
    const id = this.database.write(() => this.insertRun(run, null));
    this.heartbeats.add(id);
    return q.summary(q.runRow(this.db, id)!);
  }

  async joinRun(key: string, run: NewRun): Promise<{ run: RunSummary; created: boolean }> {
    // One IMMEDIATE transaction looks the key up and creates the run: of two processes starting together, the second
    // waits for the first and finds its run.
    const { id, created } = this.database.write(() => {
      const found = this.db.prepare('SELECT id FROM runs WHERE run_key = ?').get(key) as { id: string } | undefined;
      return found ? { id: found.id, created: false } : { id: this.insertRun(run, key), created: true };
    });
    return { run: q.summary(q.runRow(this.db, id)!), created };
  }

  /** Inside a write: inserts a RUNNING run (shared under `key`, or owned by this process) and returns its id. */
  private insertRun(run: NewRun, key: string | null): string {
    checkKey('pipeline', run.pipeline);
    const params = run.params ? flattenParams(run.params) : {};
    const tags = run.tags ?? {};
    for (const key of Object.keys(tags)) checkTag(key, tags[key]);
    const startTime = run.startTime ?? Date.now();
    const id = newRunId(startTime);
    const me = currentProcess();
    const g = run.git;
    {
      this.db
        .prepare(
          `INSERT INTO runs (id, pipeline, status, start_time, git_root, git_commit, git_branch, git_dirty, git_diff_hash,
             command, kiln_version, node_version, tfjs_version, backend, hostname, pid, process_start)
           VALUES (?, ?, 'RUNNING', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          id, run.pipeline, startTime, g?.root ?? null, g?.commit ?? null, g?.branch ?? null,
          g?.dirty === null || g?.dirty === undefined ? null : g.dirty ? 1 : 0, g?.diffHash ?? null,
          JSON.stringify(maskCommand(run.command)), run.versions.kiln, run.versions.node, run.versions.tfjs, run.backend, me.hostname, me.pid, me.start,
        );
      // Set apart so that a store opened at an older schema version (tests of migrations) can still record runs.
      if (run.invocation) this.db.prepare('UPDATE runs SET invocation = ? WHERE id = ?').run(JSON.stringify(run.invocation), id);
      if (g?.uncommitted.length) {
        const file = this.db.prepare('INSERT INTO run_uncommitted_files (run_id, path, status, blob) VALUES (?, ?, ?, ?)');
        for (const f of g.uncommitted) file.run(id, f.path, f.status, f.blob ?? null);
      }
      this.insertParams(id, params);
      const tag = this.db.prepare('INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?)');
      for (const [k, v] of Object.entries(tags)) tag.run(id, k, v);
      if (key !== null) this.db.prepare('UPDATE runs SET run_key = ? WHERE id = ?').run(key, id);
    }
    return id;
  }

  private insertParams(runId: string, params: Record<string, JsonValue>): void {
    const existing = this.db.prepare('SELECT value_json FROM params WHERE run_id = ? AND key = ?');
    const insert = this.db.prepare('INSERT INTO params (run_id, key, value_json, value_text, value_num) VALUES (?, ?, ?, ?, ?)');
    for (const [key, value] of Object.entries(params)) {
      const cols = paramColumns(value);
      const old = existing.get(runId, key) as { value_json: string } | undefined;
      if (old) {
        if (old.value_json !== cols.json) throw new KilnError(diag('KILN4004', { key, run: runId, old: old.value_json, value: cols.json }));
        continue;
      }
      insert.run(runId, key, cols.json, cols.text, cols.num);
    }
  }

  async logParams(runId: string, params: Record<string, unknown>): Promise<void> {
    const flat = flattenParams(params);
    this.database.write(() => {
      this.assertRunning(runId, 'record parameters');
      this.insertParams(runId, flat);
    });
  }

  async logMetrics(runId: string, metrics: Record<string, number>, opts: { step?: number; timestamp?: number } = {}): Promise<void> {
    const step = opts.step ?? 0;
    const timestamp = opts.timestamp ?? Date.now();
    checkMetrics(metrics, step);
    this.database.write(() => {
      this.assertRunning(runId, 'record metrics');
      const point = this.db.prepare('INSERT INTO metrics (run_id, key, value, step, timestamp) VALUES (?, ?, ?, ?, ?)');
      // The latest point is the one with the highest step; at the same step, the newest (later writes win ties).
      const latest = this.db.prepare(
        `INSERT INTO latest_metrics (run_id, key, value, step, timestamp) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value, step = excluded.step, timestamp = excluded.timestamp
         WHERE excluded.step > latest_metrics.step OR (excluded.step = latest_metrics.step AND excluded.timestamp >= latest_metrics.timestamp)`,
      );
      for (const [key, value] of Object.entries(metrics)) {
        const v = Number.isNaN(value) ? null : value;
        point.run(runId, key, v, step, timestamp);
        latest.run(runId, key, v, step, timestamp);
      }
    });
  }

  async setTag(runId: string, key: string, value: string): Promise<void> {
    checkTag(key, value);
    const id = await this.resolveRunId(runId);
    this.database.write(() => {
      this.db.prepare('INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value').run(id, key, value);
    });
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
    this.database.write(() => {
      this.assertRunning(runId, 'record files');
      this.db
        .prepare('INSERT INTO files (run_id, name, object, size, timestamp) VALUES (?, ?, ?, ?, ?) ON CONFLICT (run_id, name) DO UPDATE SET object = excluded.object, size = excluded.size, timestamp = excluded.timestamp')
        .run(runId, name, object, size, file.timestamp);
    });
    return file;
  }

  private insertDatasets(executionId: number, direction: 'input' | 'output', datasets: Record<string, { sha256: string; object?: string | null }>): void {
    const stmt = this.stmt(
      'INSERT INTO node_datasets (execution_id, direction, dataset, sha256, object) VALUES (?, ?, ?, ?, ?) ON CONFLICT (execution_id, direction, dataset) DO UPDATE SET sha256 = excluded.sha256, object = excluded.object',
    );
    for (const [dataset, d] of Object.entries(datasets)) stmt.run(executionId, direction, dataset, d.sha256, d.object ?? null);
  }

  async startNode(runId: string, node: string, start: StartNode): Promise<number> {
    checkKey('node', node);
    const inputs = inputDatasets(start.inputs);
    checkDatasets('input', inputs);
    return this.database.write(() => {
      this.assertRunning(runId, 'record node executions');
      const info = this.stmt("INSERT INTO node_executions (run_id, node, status, start_time, fingerprint) VALUES (?, ?, 'RUNNING', ?, ?)").run(runId, node, start.startTime ?? Date.now(), start.fingerprint);
      const id = Number(info.lastInsertRowid);
      this.insertDatasets(id, 'input', inputs);
      return id;
    });
  }

  async finishNode(executionId: number, result: FinishNode): Promise<void> {
    const inputs = inputDatasets(result.inputs);
    const outputs = result.outputs ?? {};
    checkDatasets('input', inputs);
    checkDatasets('output', outputs);
    await this.objects.sync();
    this.database.write(() => {
      const row = this.stmt('SELECT run_id, status FROM node_executions WHERE id = ?').get(executionId) as { run_id: string; status: RunStatus } | undefined;
      if (!row) throw new Error(`node execution ${executionId} does not exist`);
      if (row.status !== 'RUNNING') throw new KilnError(diag('KILN4010', { run: row.run_id, status: `${row.status} for node execution ${executionId}`, action: 'finish that node again' }));
      this.stmt('UPDATE node_executions SET status = ?, end_time = ?, cache_hit = ?, error = ? WHERE id = ?').run(result.status, result.endTime ?? Date.now(), result.cacheHit ? 1 : 0, result.error ?? null, executionId);
      this.insertDatasets(executionId, 'input', inputs);
      this.insertDatasets(executionId, 'output', outputs);
    });
  }

  async recordNodes(runId: string, nodes: readonly EndedNode[]): Promise<number[]> {
    const rows = nodes.map((n) => {
      checkKey('node', n.node);
      const inputs = inputDatasets({ ...n.start.inputs, ...n.finish.inputs });
      const outputs = n.finish.outputs ?? {};
      checkDatasets('input', inputs);
      checkDatasets('output', outputs);
      return { n, inputs, outputs };
    });
    if (rows.length === 0) return [];
    await this.objects.sync();
    return this.database.write(() => {
      this.assertRunning(runId, 'record node executions');
      const insert = this.stmt('INSERT INTO node_executions (run_id, node, status, start_time, end_time, fingerprint, cache_hit, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
      return rows.map(({ n, inputs, outputs }) => {
        const end = n.finish.endTime ?? Date.now();
        const info = insert.run(runId, n.node, n.finish.status, n.start.startTime ?? end, end, n.start.fingerprint, n.finish.cacheHit ? 1 : 0, n.finish.error ?? null);
        const id = Number(info.lastInsertRowid);
        this.insertDatasets(id, 'input', inputs);
        this.insertDatasets(id, 'output', outputs);
        return id;
      });
    });
  }

  async findCachedExecution(node: string, fingerprint: string): Promise<CachedExecution | null> {
    // One query for the candidates and their datasets: a cached run asks this for every node, and a second query per
    // node (its datasets) cost as much as the first.
    const rows = this.stmt(q.CACHE_CANDIDATES).all(node, fingerprint) as q.CandidateRow[];
    for (const { execution: c, inputs, outputs } of q.candidatesOf(rows)) {
      const restorable: CachedExecution['outputs'] = {};
      let complete = true;
      for (const [name, o] of Object.entries(outputs)) {
        if (!o.object || !(await this.objects.hasComplete(o.object))) {
          complete = false;
          break;
        }
        restorable[name] = { sha256: o.sha256, object: o.object };
      }
      if (complete) return { executionId: c.id, runId: c.run_id, node: c.node, fingerprint, endTime: c.end_time ?? c.start_time, inputs, outputs: restorable };
    }
    return null;
  }

  async setBackend(runId: string, backend: string | null, tfjs: string | null): Promise<void> {
    this.database.write(() => {
      this.assertRunning(runId, 'record its backend');
      this.db.prepare('UPDATE runs SET backend = ?, tfjs_version = ? WHERE id = ?').run(backend, tfjs, runId);
    });
  }

  async finishRun(runId: string, outcome: FinishRun): Promise<void> {
    if (!['FINISHED', 'FAILED', 'KILLED'].includes(outcome.status)) throw new Error(`finishRun: '${outcome.status}' is not a final status`);
    const end = outcome.endTime ?? Date.now();
    this.database.write(() => {
      this.assertRunning(runId, `mark it ${outcome.status}`);
      let { status, error } = outcome;
      if (status === 'FINISHED') {
        // A run is FINISHED only when every node it started finished: one that failed, or never ended, fails the run.
        // In a shared run a task may be retried: a node whose later attempt finished is done, the earlier one's row aside.
        const unfinished = this.db
          .prepare("SELECT node, status FROM node_executions WHERE run_id = ? AND status IN ('FAILED', 'RUNNING', 'KILLED') AND node NOT IN (SELECT node FROM node_executions WHERE run_id = ? AND status = 'FINISHED') ORDER BY id")
          .all(runId, runId) as Array<{ node: string; status: string }>;
        if (unfinished.length) {
          status = 'FAILED';
          error = `node ${unfinished.map((x) => `'${x.node}' ${x.status === 'RUNNING' ? 'did not end' : x.status.toLowerCase()}`).join(', ')}`;
        }
      }
      this.db.prepare('UPDATE runs SET status = ?, end_time = ?, error = ? WHERE id = ?').run(status, end, error ?? null, runId);
      this.db
        .prepare("UPDATE node_executions SET status = ?, end_time = ? WHERE run_id = ? AND status = 'RUNNING'")
        .run(status === 'KILLED' ? 'KILLED' : 'FAILED', end, runId);
    });
    this.heartbeats.remove(runId);
  }

  private reap(): string[] {
    const me = currentProcess();
    // A shared run belongs to no process (its tasks come and go): the reaper leaves it alone. A store kept at an older
    // schema version (tests of migrations) has none.
    const shared = (this.db.prepare('PRAGMA table_info(runs)').all() as Array<{ name: string }>).some((c) => c.name === 'run_key') ? ' AND r.run_key IS NULL' : '';
    const now = Date.now();
    const lease = runLeaseMs();
    // Last sign of life: the heartbeat, or the newest thing the run wrote, so that a run's duration is not stretched
    // to the moment we noticed. A run of this host is dead when its process is gone; of another, when the lease expired.
    const heartbeat = this.schemaVersion >= 6 ? 'coalesce(r.heartbeat, 0)' : '0';
    const running = this.db
      .prepare(
        `SELECT r.id, r.hostname, r.pid, r.process_start,
                max(r.start_time, ${heartbeat},
                    coalesce((SELECT max(coalesce(end_time, start_time)) FROM node_executions WHERE run_id = r.id), 0),
                    coalesce((SELECT max(timestamp) FROM metrics WHERE run_id = r.id), 0),
                    coalesce((SELECT max(timestamp) FROM files WHERE run_id = r.id), 0)) AS last_seen
         FROM runs r WHERE r.status = 'RUNNING'${shared}`,
      )
      .all() as Array<{ id: string; hostname: string; pid: number; process_start: string | null; last_seen: number }>;
    const dead = running.filter((r) => runIsDead({ hostname: r.hostname, pid: r.pid, start: r.process_start, lastSeen: r.last_seen }, now, lease));
    if (dead.length === 0) return [];
    const reaped: string[] = [];
    this.database.write(() => {
      // The heartbeat is read again inside the write: a run that beat since the look-up above is alive.
      const mark = this.db.prepare(`UPDATE runs SET status = 'KILLED', end_time = ?, error = ? WHERE id = ? AND status = 'RUNNING' AND ${heartbeat.replace('r.', '')} <= ?`);
      const nodes = this.db.prepare("UPDATE node_executions SET status = 'KILLED', end_time = ? WHERE run_id = ? AND status = 'RUNNING'");
      for (const r of dead) {
        const reason = r.hostname === me.hostname ? `process ${r.pid} on ${r.hostname} ended without finishing the run` : `process ${r.pid} on ${r.hostname} stopped beating (no sign of life for over ${Math.round(lease / 1000)} s)`;
        const changed = mark.run(r.last_seen, reason, r.id, r.last_seen).changes;
        if (changed === 0) continue; // another process reaped it first
        nodes.run(r.last_seen, r.id);
        reaped.push(r.id);
      }
    });
    return reaped;
  }

  async reapDeadRuns(): Promise<string[]> {
    return this.reap();
  }

  async resolveRunId(idOrPrefix: string): Promise<string> {
    return q.resolveRunId(this.db, this.location, idOrPrefix);
  }

  async getRun(idOrPrefix: string): Promise<RunRecord> {
    const id = q.resolveRunId(this.db, this.location, idOrPrefix);
    return this.database.read(() => q.readRun(this.db, id));
  }

  async listRuns(query: ListRuns = {}): Promise<RunSummary[]> {
    return q.listRuns(this.db, query);
  }

  async latestFinishedRun(pipeline: string, commit: string, opts: { clean?: boolean } = {}): Promise<RunSummary | null> {
    return q.latestFinishedRun(this.db, pipeline, commit, opts.clean ?? false);
  }

  async finishedRuns(pipeline: string, commit: string, opts: { clean?: boolean; limit?: number } = {}): Promise<RunSummary[]> {
    return q.finishedRuns(this.db, pipeline, commit, opts.clean ?? false, opts.limit ?? 20);
  }

  async searchRuns(filter: string, opts: { limit?: number } = {}): Promise<RunSummary[]> {
    return q.searchRuns(this.db, filter, opts.limit ?? 1000);
  }

  async metricHistory(runId: string, key: string): Promise<MetricPoint[]> {
    return q.metricHistory(this.db, q.resolveRunId(this.db, this.location, runId), key);
  }

  async shortIds(ids: readonly string[], minLength = 8): Promise<Map<string, string>> {
    return q.shortIds(this.db, ids, minLength);
  }

  close(): void {
    this.heartbeats.stop();
    this.database.close();
  }
}
