// The run store backends the tracking suite runs against: the embedded SQLite store and PostgreSQL (a throw-away
// cluster, started once per test file when its first PostgreSQL case runs). A case written once over
// `describe.each(storeBackends)` checks both: one suite, not a copy per backend.
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, afterEach, beforeEach } from 'vitest';
import { LEASE_ENV } from '../../src/tracking/liveness.ts';
import { openPostgresTracking, openTracking, type Tracking } from '../../src/tracking/index.ts';
import type { PostgresOpenOptions } from '../../src/tracking/postgres/store.ts';
import { maskStoreUrl } from '../../src/tracking/store-url.ts';
import { skipPostgres, startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { tempDir, tempStore, track } from './helpers.ts';

export interface StoreBackend {
  name: 'sqlite' | 'postgres';
  /** A fresh, empty store in a temporary project (closed after the test). */
  store(): Promise<{ project: string; storeDir: string; tracking: Tracking; url: string | null }>;
  /** A fresh store whose objects are in `storeDir`, for a whole file: the caller closes it. */
  fileStore(storeDir: string): Promise<Tracking>;
}

let cluster: Promise<TestPostgres> | null = null;
const opened: Tracking[] = [];

/** The cluster of this test file, started on first use. */
export function postgresCluster(): Promise<TestPostgres> {
  cluster ??= startPostgres();
  return cluster;
}

afterEach(() => {
  for (const t of opened.splice(0)) t.close();
});

afterAll(async () => {
  if (cluster) await (await cluster).stop();
  cluster = null;
});

/** A PostgreSQL store at `url` with objects in `storeDir`, as openProjectTracking makes it (closed after the test). */
export async function postgresTracking(url: string, storeDir: string, opts: PostgresOpenOptions = {}) {
  const t = await openPostgresTracking({ url, display: maskStoreUrl(url), variables: ['KILN_STORE'] }, storeDir, opts);
  opened.push(t);
  return t;
}

const sqlite: StoreBackend = {
  name: 'sqlite',
  async store() {
    return { ...tempStore(), url: null };
  },
  async fileStore(storeDir) {
    return openTracking(storeDir);
  },
};

const postgres: StoreBackend = {
  name: 'postgres',
  async store() {
    const url = await (await postgresCluster()).freshStore();
    const project = tempDir();
    const storeDir = path.join(project, '.kiln');
    return { project, storeDir, tracking: await postgresTracking(url, storeDir), url };
  },
  async fileStore(storeDir) {
    const url = await (await postgresCluster()).freshStore();
    return openPostgresTracking({ url, display: maskStoreUrl(url), variables: ['KILN_STORE'] }, storeDir);
  },
};

/** Both backends; PostgreSQL only when it is installed or its absence is allowed (see skipPostgres). */
export const storeBackends: StoreBackend[] = skipPostgres() ? [sqlite] : [sqlite, postgres];

type OpenedStore = { storeDir: string; url: string | null };

/** Another process opening the same store (a new connection, so its reaping is its own). */
export function reopen(backend: StoreBackend, store: OpenedStore): Promise<Tracking> {
  return backend.name === 'sqlite' ? Promise.resolve(track(openTracking(store.storeDir))) : postgresTracking(store.url!, store.storeDir);
}

/** Rewrites where run `id` says it runs, as if another machine (of another name, or of ours) had started it. */
export async function moveToHost(backend: StoreBackend, store: OpenedStore, id: string, hostname: string, processStart: string | null = null): Promise<void> {
  if (backend.name === 'sqlite') {
    const db = new Database(path.join(store.storeDir, 'kiln.db'));
    db.prepare('UPDATE runs SET hostname = ?, process_start = coalesce(?, process_start) WHERE id = ?').run(hostname, processStart, id);
    db.close();
    return;
  }
  const c = new pg.Client({ connectionString: store.url! });
  await c.connect();
  await c.query('UPDATE runs SET hostname = $1, process_start = coalesce($2, process_start) WHERE id = $3', [hostname, processStart, id]);
  await c.end();
}

/** Sets the run lease (KILN_RUN_LEASE_MS) to `ms` for each test of the calling describe block, restored after. */
export function useRunLease(ms: number): void {
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env[LEASE_ENV];
    process.env[LEASE_ENV] = String(ms);
  });
  afterEach(() => {
    if (saved === undefined) delete process.env[LEASE_ENV];
    else process.env[LEASE_ENV] = saved;
  });
}
