// Versioned schema of the run store. `PRAGMA user_version` holds the version; migrations only ever get appended.
// Times are milliseconds since the epoch (INTEGER); JSON columns hold JSON text.
import type Database from 'better-sqlite3';
import { diag, KilnError } from '../diagnostics/index.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'runs, parameters, metrics, node executions, files, tags',
    sql: `
      CREATE TABLE runs (
        id              TEXT PRIMARY KEY,
        pipeline        TEXT NOT NULL,
        status          TEXT NOT NULL CHECK (status IN ('RUNNING', 'FINISHED', 'FAILED', 'KILLED')),
        start_time      INTEGER NOT NULL,
        end_time        INTEGER,
        error           TEXT,
        git_root        TEXT,
        git_commit      TEXT,
        git_branch      TEXT,
        git_dirty       INTEGER CHECK (git_dirty IN (0, 1)),
        git_diff_hash   TEXT,
        git_uncommitted TEXT NOT NULL DEFAULT '[]',
        command         TEXT NOT NULL DEFAULT '[]',
        kiln_version    TEXT,
        node_version    TEXT,
        tfjs_version    TEXT,
        backend         TEXT,
        hostname        TEXT NOT NULL,
        pid             INTEGER NOT NULL,
        process_start   TEXT
      );
      CREATE INDEX runs_pipeline ON runs (pipeline, id);
      CREATE INDEX runs_status ON runs (status);
      CREATE INDEX runs_commit ON runs (git_commit, pipeline);

      -- value_json round-trips the value; value_text and value_num are what filters compare against.
      CREATE TABLE params (
        run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        key        TEXT NOT NULL,
        value_json TEXT NOT NULL,
        value_text TEXT NOT NULL,
        value_num  REAL,
        PRIMARY KEY (run_id, key)
      ) WITHOUT ROWID;

      -- value NULL stands for NaN (SQLite has no NaN).
      CREATE TABLE metrics (
        id        INTEGER PRIMARY KEY,
        run_id    TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        key       TEXT NOT NULL,
        value     REAL,
        step      INTEGER NOT NULL,
        timestamp INTEGER NOT NULL
      );
      CREATE INDEX metrics_run_key ON metrics (run_id, key, step);

      -- The latest point of each metric (highest step, then newest), kept on write so that search stays a lookup.
      CREATE TABLE latest_metrics (
        run_id    TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        key       TEXT NOT NULL,
        value     REAL,
        step      INTEGER NOT NULL,
        timestamp INTEGER NOT NULL,
        PRIMARY KEY (run_id, key)
      ) WITHOUT ROWID;
      CREATE INDEX latest_metrics_key ON latest_metrics (key, value);

      CREATE TABLE tags (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        key    TEXT NOT NULL,
        value  TEXT NOT NULL,
        PRIMARY KEY (run_id, key)
      ) WITHOUT ROWID;

      CREATE TABLE node_executions (
        id          INTEGER PRIMARY KEY,
        run_id      TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        node        TEXT NOT NULL,
        status      TEXT NOT NULL CHECK (status IN ('RUNNING', 'FINISHED', 'FAILED', 'KILLED')),
        start_time  INTEGER NOT NULL,
        end_time    INTEGER,
        fingerprint TEXT,
        cache_hit   INTEGER NOT NULL DEFAULT 0 CHECK (cache_hit IN (0, 1)),
        error       TEXT
      );
      CREATE INDEX node_executions_run ON node_executions (run_id, id);
      CREATE INDEX node_executions_cache ON node_executions (node, fingerprint, status, id);

      -- Content hash of each dataset a node execution read (input) or wrote (output); object: its snapshot, if kept.
      CREATE TABLE node_datasets (
        execution_id INTEGER NOT NULL REFERENCES node_executions (id) ON DELETE CASCADE,
        direction    TEXT NOT NULL CHECK (direction IN ('input', 'output')),
        dataset      TEXT NOT NULL,
        sha256       TEXT NOT NULL,
        object       TEXT,
        PRIMARY KEY (execution_id, direction, dataset)
      ) WITHOUT ROWID;

      CREATE TABLE files (
        run_id    TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        name      TEXT NOT NULL,
        object    TEXT NOT NULL,
        size      INTEGER NOT NULL,
        timestamp INTEGER NOT NULL,
        PRIMARY KEY (run_id, name)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    name: 'model registry',
    sql: `
      CREATE TABLE registered_models (
        name        TEXT PRIMARY KEY,
        created_at  INTEGER NOT NULL,
        description TEXT
      );

      CREATE TABLE model_versions (
        model           TEXT NOT NULL REFERENCES registered_models (name) ON DELETE CASCADE,
        version         INTEGER NOT NULL CHECK (version >= 1),
        artifact_path   TEXT NOT NULL,
        artifact_sha256 TEXT NOT NULL,
        run_id          TEXT REFERENCES runs (id),
        git_commit      TEXT,
        created_at      INTEGER NOT NULL,
        description     TEXT,
        PRIMARY KEY (model, version)
      );
      CREATE INDEX model_versions_run ON model_versions (run_id);

      CREATE TABLE model_aliases (
        model      TEXT NOT NULL,
        alias      TEXT NOT NULL,
        version    INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (model, alias),
        FOREIGN KEY (model, version) REFERENCES model_versions (model, version)
      );

      -- Every alias move, so that a rollback knows where an alias pointed before (version NULL: alias removed).
      CREATE TABLE model_alias_history (
        id         INTEGER PRIMARY KEY,
        model      TEXT NOT NULL,
        alias      TEXT NOT NULL,
        version    INTEGER,
        changed_at INTEGER NOT NULL
      );
      CREATE INDEX model_alias_history_alias ON model_alias_history (model, alias, id);
    `,
  },
  {
    version: 3,
    name: 'how a run was started; overrides a published version was allowed',
    sql: `
      -- JSON (RunInvocation): the --params overrides, --load-version pins, node filter and --backend a run was started
      -- with, so that publish can tell a run of main as committed from one that departed from it. NULL: recorded before.
      ALTER TABLE runs ADD COLUMN invocation TEXT;

      -- JSON array of the departures from main that kiln publish --allow-overrides accepted; NULL: none.
      ALTER TABLE model_versions ADD COLUMN overrides TEXT;
      -- Publishing looks a digest up to stay idempotent (registration checks it in its write transaction).
      CREATE INDEX model_versions_digest ON model_versions (model, artifact_sha256);
    `,
  },
  {
    version: 4,
    name: 'each uncommitted file of a run with its blob id',
    // One row per file instead of a JSON list, so that a file's own hash can be compared between runs and a run can
    // be found by a file it changed. Runs recorded before keep their paths and statuses, without blob ids.
    sql: `
      CREATE TABLE run_uncommitted_files (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        path   TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('modified', 'added', 'deleted', 'untracked')),
        blob   TEXT,
        PRIMARY KEY (run_id, path)
      ) WITHOUT ROWID;
      CREATE INDEX run_uncommitted_files_path ON run_uncommitted_files (path, blob);
      INSERT INTO run_uncommitted_files (run_id, path, status, blob)
        SELECT r.id, json_extract(f.value, '$.path'), json_extract(f.value, '$.status'), NULL
        FROM runs r, json_each(r.git_uncommitted) f;
      ALTER TABLE runs DROP COLUMN git_uncommitted;
    `,
  },
  {
    version: 5,
    name: 'runs shared by several processes, found by a key the orchestrator gives (an Argo workflow uid)',
    // Unique, so that two tasks starting together cannot both create the run. A shared run belongs to no process: the
    // reaper leaves it alone, as its creator ends long before the run does.
    sql: `
      ALTER TABLE runs ADD COLUMN run_key TEXT;
      CREATE UNIQUE INDEX runs_run_key ON runs (run_key) WHERE run_key IS NOT NULL;
    `,
  },
  {
    version: 6,
    name: 'heartbeats of running runs',
    // The last sign of life of the process that runs it, written a third of the lease apart: a run of another host
    // (a store on a shared disk) is KILLED when it is older than the lease. NULL: recorded before, or not beating.
    sql: `ALTER TABLE runs ADD COLUMN heartbeat INTEGER;`,
  },
];

export const SCHEMA_VERSION = migrations[migrations.length - 1].version;

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings the schema to `target` (the latest by default). Each step runs in its own IMMEDIATE transaction and re-reads
 * the version inside it, so that processes opening a fresh store at the same moment apply each migration once.
 */
export function migrate(db: Database.Database, location: string, target: number = SCHEMA_VERSION): void {
  for (const m of migrations) {
    if (m.version > target) break;
    const step = db.transaction(() => {
      const current = schemaVersion(db);
      if (current >= m.version) return;
      if (current !== m.version - 1) throw new Error(`run store ${location} is at schema version ${current}; cannot apply migration ${m.version}`);
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    });
    step.immediate();
  }
}

/** Refuses a store written by a newer kiln: reading it with an older schema would misread it. */
export function assertSupportedVersion(db: Database.Database, location: string): void {
  const found = schemaVersion(db);
  if (found > SCHEMA_VERSION) throw new KilnError(diag('KILN4007', { path: location, found, supported: SCHEMA_VERSION }));
}
