// Runs of another host: their process cannot be seen from here, so they live by their heartbeat. While the process
// that started a run beats, the run stays RUNNING; once it stops for longer than the lease, the next open of the
// store marks it KILLED. On both stores, with a lease short enough to be quick (KILN_RUN_LEASE_MS).
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { newRun } from './helpers.ts';
import { moveToHost, reopen, storeBackends, useRunLease } from './backends.ts';

// Beats come a third of the lease apart: a lease of 600 ms stays clear of a busy machine's timer delays.
const LEASE_MS = 600;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(storeBackends)('liveness on $name', (backend) => {
  useRunLease(LEASE_MS);

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
