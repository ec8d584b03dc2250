// Runs of another host: their process cannot be seen from here, so they live by their heartbeat. While the process
// that started a run beats, the run stays RUNNING; once it stops for longer than the lease, the next open of the
// store marks it KILLED. On both stores, with a lease short enough to be quick (KILN_RUN_LEASE_MS).
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LEASE_ENV } from '../../src/tracking/liveness.ts';
import { openTracking } from '../../src/tracking/index.ts';
import { newRun, track } from './helpers.ts';
import { postgresTracking, storeBackends, type StoreBackend } from './backends.ts';

// Beats come a third of the lease apart: a lease of 600 ms stays clear of a busy machine's timer delays.
const LEASE_MS = 600;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Rewrites where run `id` says it runs, as if another machine (of another name, or of ours) had started it. */
async function moveToHost(backend: StoreBackend, store: { storeDir: string; url: string | null }, id: string, hostname: string, processStart: string | null = null): Promise<void> {
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

/** Another process opening the same store (a new connection, so its reaping is its own). */
const reopen = (backend: StoreBackend, store: { storeDir: string; url: string | null }) =>
  backend.name === 'sqlite' ? Promise.resolve(track(openTracking(store.storeDir))) : postgresTracking(store.url!, store.storeDir);

describe.each(storeBackends)('liveness on $name', (backend) => {
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env[LEASE_ENV];
    process.env[LEASE_ENV] = String(LEASE_MS);
  });
  afterEach(() => {
    if (saved === undefined) delete process.env[LEASE_ENV];
    else process.env[LEASE_ENV] = saved;
  });

  it('keeps a run of another host RUNNING while it beats, and marks it KILLED once its lease expires', async () => {
    const store = await backend.store();
    const starter = store.tracking;
    const run = await starter.runs.createRun(newRun());
    const node = await starter.runs.startNode(run.id, 'train', { fingerprint: null });
    await moveToHost(backend, store, run.id, 'another-machine');

    await sleep(LEASE_MS * 2);
    const watcher = await reopen(backend, store);
    expect(watcher.reaped, 'its process still beats').toEqual([]);
    expect(await watcher.runs.reapDeadRuns()).toEqual([]);

    // The other machine dies: nothing beats any more.
    starter.close();
    await sleep(LEASE_MS * 2);
    const later = await reopen(backend, store);
    expect(later.reaped).toEqual([run.id]);
    const rec = await later.runs.getRun(run.id);
    expect(rec.status).toBe('KILLED');
    expect(rec.error).toContain('another-machine');
    expect(rec.nodes.find((n) => n.id === node)?.status).toBe('KILLED');
    // Its end is its last sign of life, not the moment it was noticed.
    expect(rec.endTime!).toBeLessThan(Date.now() - LEASE_MS);
  });

  it('judges a run of a machine that has our name but another boot by its heartbeat too, not by our process table', async () => {
    const store = await backend.store();
    const run = await store.tracking.runs.createRun(newRun());
    // Containers often share a host name: pid and start time mean nothing here, the boot id says it is elsewhere.
    await moveToHost(backend, store, run.id, os.hostname(), 'another-boot:12345');
    await sleep(LEASE_MS * 2);
    expect((await reopen(backend, store)).reaped).toEqual([]);
    store.tracking.close();
    await sleep(LEASE_MS * 2);
    expect((await reopen(backend, store)).reaped).toEqual([run.id]);
  });

  it('never records a password of a store URL in the command line of a run', async () => {
    const { tracking } = await backend.store();
    const run = await tracking.runs.createRun(newRun({ command: ['kiln', 'run', '--note', 'postgres://ana:s3cret@db:5432/kiln', 'KILN_STORE=postgresql://bo:pw@db/kiln?password=other'] }));
    const rec = await tracking.runs.getRun(run.id);
    expect(rec.command).toEqual(['kiln', 'run', '--note', 'postgres://ana:***@db:5432/kiln', 'KILN_STORE=postgresql://bo:***@db/kiln?password=***']);
    expect(JSON.stringify(rec)).not.toMatch(/s3cret|pw@|other/);
  });
});
