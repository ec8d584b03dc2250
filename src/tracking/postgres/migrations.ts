// Versioned schema of the PostgreSQL run store, with the discipline of the SQLite one (../migrations.ts): migrations
// are only appended; kiln_schema holds the version; a newer schema is refused. Processes that open a fresh store at
// once take a transaction-level advisory lock first, so each migration is applied once and nobody reads half of it.
import type pg from 'pg';
import { diag, KilnError } from '../../diagnostics/index.ts';
import type { Migration } from '../migrations.ts';

/** Key of the advisory lock that serialises migrations (any constant; it names kiln's schema in pg_locks). */
export const MIGRATION_LOCK = 0x6b696c6e; // "kiln"

// Texts compare byte-wise (COLLATE "C"), as SQLite does: run id prefixes are ranges, and ordered lists do not depend on
// the server's locale. Times are milliseconds since the epoch; a NaN metric is NULL, as in SQLite.
export const postgresMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'runs, parameters, metrics, node executions, files, tags, uncommitted files, heartbeats',
    sql: `
      CREATE TABLE runs (
        id            TEXT COLLATE "C" PRIMARY KEY,
        pipeline      TEXT COLLATE "C" NOT NULL,
        status        TEXT NOT NULL CHECK (status IN ('RUNNING', 'FINISHED', 'FAILED', 'KILLED')),
        start_time    BIGINT NOT NULL,
        end_time      BIGINT,
        error         TEXT,
        git_root      TEXT,
        git_commit    TEXT COLLATE "C",
        git_branch    TEXT COLLATE "C",
        git_dirty     INTEGER CHECK (git_dirty IN (0, 1)),
        git_diff_hash TEXT,
        command       TEXT NOT NULL DEFAULT '[]',
        invocation    TEXT,
        kiln_version  TEXT COLLATE "C",
        node_version  TEXT COLLATE "C",
        tfjs_version  TEXT COLLATE "C",
        backend       TEXT COLLATE "C",
        hostname      TEXT NOT NULL,
        pid           INTEGER NOT NULL,
        process_start TEXT,
        -- Last sign of life of the process that runs it: a run of another host is KILLED when it is older than the lease.
        heartbeat     BIGINT
      );
      CREATE INDEX runs_pipeline ON runs (pipeline, id);
      CREATE INDEX runs_status ON runs (status);
      CREATE INDEX runs_commit ON runs (git_commit, pipeline);

      CREATE TABLE params (
        run_id     TEXT COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        key        TEXT COLLATE "C" NOT NULL,
        value_json TEXT NOT NULL,
        value_text TEXT COLLATE "C" NOT NULL,
        value_num  DOUBLE PRECISION,
        PRIMARY KEY (run_id, key)
      );

      CREATE TABLE metrics (
        id        BIGSERIAL PRIMARY KEY,
        run_id    TEXT COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        key       TEXT COLLATE "C" NOT NULL,
        value     DOUBLE PRECISION,
        step      BIGINT NOT NULL,
        timestamp BIGINT NOT NULL
      );
      CREATE INDEX metrics_run_key ON metrics (run_id, key, step);

      CREATE TABLE latest_metrics (
        run_id    TEXT COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        key       TEXT COLLATE "C" NOT NULL,
        value     DOUBLE PRECISION,
        step      BIGINT NOT NULL,
        timestamp BIGINT NOT NULL,
        PRIMARY KEY (run_id, key)
      );
      CREATE INDEX latest_metrics_key ON latest_metrics (key, value);

      CREATE TABLE tags (
        run_id TEXT COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        key    TEXT COLLATE "C" NOT NULL,
        value  TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (run_id, key)
      );

      CREATE TABLE node_executions (
        id          BIGSERIAL PRIMARY KEY,
        run_id      TEXT COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        node        TEXT COLLATE "C" NOT NULL,
        status      TEXT NOT NULL CHECK (status IN ('RUNNING', 'FINISHED', 'FAILED', 'KILLED')),
        start_time  BIGINT NOT NULL,
        end_time    BIGINT,
        fingerprint TEXT COLLATE "C",
        cache_hit   INTEGER NOT NULL DEFAULT 0 CHECK (cache_hit IN (0, 1)),
        error       TEXT
      );
      CREATE INDEX node_executions_run ON node_executions (run_id, id);
      CREATE INDEX node_executions_cache ON node_executions (node, fingerprint, status, id);

      CREATE TABLE node_datasets (
        execution_id BIGINT NOT NULL REFERENCES node_executions (id) ON DELETE CASCADE,
        direction    TEXT NOT NULL CHECK (direction IN ('input', 'output')),
        dataset      TEXT COLLATE "C" NOT NULL,
        sha256       TEXT NOT NULL,
        object       TEXT,
        PRIMARY KEY (execution_id, direction, dataset)
      );

      CREATE TABLE files (
        run_id    TEXT COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        name      TEXT COLLATE "C" NOT NULL,
        object    TEXT NOT NULL,
        size      BIGINT NOT NULL,
        timestamp BIGINT NOT NULL,
        PRIMARY KEY (run_id, name)
      );

      CREATE TABLE run_uncommitted_files (
        run_id TEXT COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        path   TEXT COLLATE "C" NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('modified', 'added', 'deleted', 'untracked')),
        blob   TEXT,
        PRIMARY KEY (run_id, path)
      );
      CREATE INDEX run_uncommitted_files_path ON run_uncommitted_files (path, blob);
    `,
  },
  {
    version: 2,
    name: 'runs shared by several processes, found by a key the orchestrator gives (an Argo workflow uid)',
    // Unique, so that two tasks starting together cannot both create the run (joinRun also locks the key). A shared run
    // belongs to no process: the reaper leaves it alone, as its creator ends long before the run does.
    sql: `
      ALTER TABLE runs ADD COLUMN run_key TEXT COLLATE "C";
      CREATE UNIQUE INDEX runs_run_key ON runs (run_key) WHERE run_key IS NOT NULL;
    `,
  },
];

export const POSTGRES_SCHEMA_VERSION = postgresMigrations[postgresMigrations.length - 1].version;

async function currentVersion(c: pg.PoolClient): Promise<number> {
  const rows = (await c.query<{ version: number }>("SELECT version FROM kiln_schema")).rows;
  return rows[0]?.version ?? 0;
}

/**
 * Brings the store to `target` (the latest by default), or refuses a newer one (KILN4007). Runs in one transaction
 * holding the advisory lock, so a second process opening a fresh store waits and then finds it migrated.
 */
export async function migratePostgres(c: pg.PoolClient, display: string, target: number = POSTGRES_SCHEMA_VERSION): Promise<number> {
  await c.query('BEGIN');
  try {
    await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await c.query('CREATE TABLE IF NOT EXISTS kiln_schema (version INTEGER NOT NULL)');
    const found = await currentVersion(c);
    if (found > POSTGRES_SCHEMA_VERSION) throw new KilnError(diag('KILN4007', { path: display, found, supported: POSTGRES_SCHEMA_VERSION }));
    for (const m of postgresMigrations) {
      if (m.version <= found || m.version > target) continue;
      await c.query(m.sql);
      await c.query('DELETE FROM kiln_schema');
      await c.query('INSERT INTO kiln_schema (version) VALUES ($1)', [m.version]);
    }
    await c.query('COMMIT');
    return Math.max(found, Math.min(target, POSTGRES_SCHEMA_VERSION));
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  }
}
