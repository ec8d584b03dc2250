// The run store on SQLite: <store>/kiln.db beside the object store <store>/objects. Safe for several kiln processes at
// once (see sqlite.ts); runs whose process died are marked KILLED when the store is opened.
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { JsonValue } from '../ir/types.ts';
import { diag, KilnError } from '../diagnostics/index.ts';
import { SqliteDatabase, type SqliteOpenOptions } from './sqlite.ts';
import { LocalObjectStore, HASH_PATTERN, type ObjectStore } from './objects.ts';
import { newRunId } from './ids.ts';
import { currentProcess, processLiveness } from './liveness.ts';
import { checkFileName, checkKey, flattenParams, paramColumns } from './params.ts';
import { GIT_TAGS } from './filter.ts';
import * as q from './sqlite-queries.ts';
import type { CachedExecution, EndedNode, FinishNode, FinishRun, ListRuns, MetricPoint, NewRun, RunFile, RunRecord, RunStatus, RunStore, RunSummary, StartNode } from './store.ts';

export const STORE_DATABASE = 'kiln.db';
export const STORE_OBJECTS = 'objects';

function checkHash(what: string, name: string, hash: unknown): void {
  if (typeof hash !== 'string' || !HASH_PATTERN.test(hash)) {
    throw new KilnError(diag('KILN4011', { what, name, reason: `'${String(hash)}' is not a sha256 (64 lowercase hexadecimal characters)`, fix: 'Pass the hash from hashPath() or the object store.' }));
  }
}

export class SqliteRunStore implements RunStore {
  readonly location: string;
  readonly objects: ObjectStore;
  readonly database: SqliteDatabase;
  /** Runs found dead and marked KILLED when this store was opened. */
  readonly reapedOnOpen: string[];

  private constructor(database: SqliteDatabase, objects: ObjectStore) {
    this.database = database;
    this.location = database.file;
    this.objects = objects;
    this.reapedOnOpen = [];
  }

  /** Opens (creating if needed) the store in `storeDir` (`<project>/.kiln`): migrates it and reaps dead runs. */
  static open(storeDir: string, opts: SqliteOpenOptions & { objects?: ObjectStore } = {}): SqliteRunStore {
    const database = SqliteDatabase.open(path.join(storeDir, STORE_DATABASE), opts);
    const store = new SqliteRunStore(database, opts.objects ?? new LocalObjectStore(path.join(storeDir, STORE_OBJECTS)));
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
    checkKey('pipeline', run.pipeline);
    const params = run.params ? flattenParams(run.params) : {};
    const tags = run.tags ?? {};
    for (const key of Object.keys(tags)) this.checkTag(key, tags[key]);
    const startTime = run.startTime ?? Date.now();
    const id = newRunId(startTime);
    const me = currentProcess();
    const g = run.git;
    this.database.write(() => {
      this.db
        .prepare(
          `INSERT INTO runs (id, pipeline, status, start_time, git_root, git_commit, git_branch, git_dirty, git_diff_hash,
             command, kiln_version, node_version, tfjs_version, backend, hostname, pid, process_start)
           VALUES (?, ?, 'RUNNING', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          id, run.pipeline, startTime, g?.root ?? null, g?.commit ?? null, g?.branch ?? null,
          g?.dirty === null || g?.dirty === undefined ? null : g.dirty ? 1 : 0, g?.diffHash ?? null,
          JSON.stringify(run.command), run.versions.kiln, run.versions.node, run.versions.tfjs, run.backend, me.hostname, me.pid, me.start,
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
    });
    return q.summary(q.runRow(this.db, id)!);
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
    if (!Number.isSafeInteger(step)) {
      throw new KilnError(diag('KILN4011', { what: 'metric step', name: String(step), reason: 'a step is a whole number', fix: 'Pass the epoch or iteration number as the step.' }));
    }
    for (const [key, value] of Object.entries(metrics)) {
      checkKey('metric', key);
      if (typeof value !== 'number') {
        throw new KilnError(diag('KILN4011', { what: 'metric', name: key, reason: `its value is a ${typeof value}, not a number`, fix: 'Metrics are numbers; record text as a tag or a file.' }));
      }
    }
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

  private checkTag(key: string, value: unknown): void {
    checkKey('tag', key);
    if (GIT_TAGS[key]) {
      throw new KilnError(diag('KILN4011', { what: 'tag', name: key, reason: 'it is set from the git stamp of the run', fix: `Choose another tag name; tags.${key} in a search reads the git stamp.` }));
    }
    if (typeof value !== 'string') throw new KilnError(diag('KILN4011', { what: 'tag', name: key, reason: `its value is a ${typeof value}, not a string`, fix: 'Tag values are strings.' }));
  }

  async setTag(runId: string, key: string, value: string): Promise<void> {
    this.checkTag(key, value);
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

  private static checkDatasets(direction: string, datasets: Record<string, { sha256: string; object?: string | null }>): void {
    for (const [name, d] of Object.entries(datasets)) {
      checkKey('dataset', name);
      checkHash(`${direction} hash of dataset`, name, d.sha256);
      if (d.object !== undefined && d.object !== null) checkHash(`snapshot of dataset`, name, d.object);
    }
  }

  async startNode(runId: string, node: string, start: StartNode): Promise<number> {
    checkKey('node', node);
    const inputs = Object.fromEntries(Object.entries(start.inputs ?? {}).map(([k, sha256]) => [k, { sha256 }]));
    SqliteRunStore.checkDatasets('input', inputs);
    return this.database.write(() => {
      this.assertRunning(runId, 'record node executions');
      const info = this.stmt("INSERT INTO node_executions (run_id, node, status, start_time, fingerprint) VALUES (?, ?, 'RUNNING', ?, ?)").run(runId, node, start.startTime ?? Date.now(), start.fingerprint);
      const id = Number(info.lastInsertRowid);
      this.insertDatasets(id, 'input', inputs);
      return id;
    });
  }

  async finishNode(executionId: number, result: FinishNode): Promise<void> {
    const inputs = Object.fromEntries(Object.entries(result.inputs ?? {}).map(([k, sha256]) => [k, { sha256 }]));
    const outputs = result.outputs ?? {};
    SqliteRunStore.checkDatasets('input', inputs);
    SqliteRunStore.checkDatasets('output', outputs);
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
      const inputs = Object.fromEntries(Object.entries({ ...n.start.inputs, ...n.finish.inputs }).map(([k, sha256]) => [k, { sha256 }]));
      const outputs = n.finish.outputs ?? {};
      SqliteRunStore.checkDatasets('input', inputs);
      SqliteRunStore.checkDatasets('output', outputs);
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
        const unfinished = this.db.prepare("SELECT node, status FROM node_executions WHERE run_id = ? AND status IN ('FAILED', 'RUNNING', 'KILLED') ORDER BY id").all(runId) as Array<{ node: string; status: string }>;
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
  }

  private reap(): string[] {
    const me = currentProcess();
    const running = this.db.prepare("SELECT id, hostname, pid, process_start FROM runs WHERE status = 'RUNNING' AND hostname = ?").all(me.hostname) as Array<{
      id: string;
      hostname: string;
      pid: number;
      process_start: string | null;
    }>;
    const dead = running.filter((r) => processLiveness({ hostname: r.hostname, pid: r.pid, start: r.process_start }) === 'gone');
    if (dead.length === 0) return [];
    const reaped: string[] = [];
    this.database.write(() => {
      // End time: the last sign of life the store saw, so the run's duration is not stretched to the moment we noticed.
      const lastSeen = this.db.prepare(
        `SELECT max(r.start_time,
                coalesce((SELECT max(coalesce(end_time, start_time)) FROM node_executions WHERE run_id = r.id), 0),
                coalesce((SELECT max(timestamp) FROM metrics WHERE run_id = r.id), 0),
                coalesce((SELECT max(timestamp) FROM files WHERE run_id = r.id), 0)) AS t
         FROM runs r WHERE r.id = ?`,
      );
      const mark = this.db.prepare("UPDATE runs SET status = 'KILLED', end_time = ?, error = ? WHERE id = ? AND status = 'RUNNING'");
      const nodes = this.db.prepare("UPDATE node_executions SET status = 'KILLED', end_time = ? WHERE run_id = ? AND status = 'RUNNING'");
      for (const r of dead) {
        const t = (lastSeen.get(r.id) as { t: number }).t;
        const changed = mark.run(t, `process ${r.pid} on ${r.hostname} ended without finishing the run`, r.id).changes;
        if (changed === 0) continue; // another process reaped it first
        nodes.run(t, r.id);
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
    this.database.close();
  }
}
