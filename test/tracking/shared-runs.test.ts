// Runs shared under a key (kiln run --run-id: the tasks of an Argo workflow) on both run stores: concurrent joins
// create one run, liveness never reaps a run no process owns, and `kiln runs kill` ends one whose workflow died.
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { makeProject } from '../helpers/project.ts';
import { newRun } from './helpers.ts';
import { moveToHost, reopen, storeBackends, useRunLease } from './backends.ts';

const LEASE_MS = 300;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(storeBackends)('shared runs on $name', (backend) => {
  useRunLease(LEASE_MS);

  it('many concurrent joins of one key create one run, and every joiner gets it', async () => {
    const store = await backend.store();
    const joiners = await Promise.all(Array.from({ length: 8 }, () => reopen(backend, store)));
    const joined = await Promise.all(joiners.map((t) => t.runs.joinRun('wf-3f2a', newRun())));
    expect(joined.filter((j) => j.created)).toHaveLength(1);
    expect(new Set(joined.map((j) => j.run.id)).size).toBe(1);
    const other = await store.tracking.runs.joinRun('wf-other', newRun());
    expect(other.created).toBe(true);
    expect((await store.tracking.runs.listRuns()).map((r) => r.id).sort()).toEqual([joined[0].run.id, other.run.id].sort());
  });

  it('never reaps a shared run by liveness: no process owns it, its tasks come and go', async () => {
    const store = await backend.store();
    const { run } = await store.tracking.runs.joinRun('wf-9c1d', newRun());
    const owned = await store.tracking.runs.createRun(newRun());
    await moveToHost(backend, store, run.id, 'pod-on-another-node');
    await moveToHost(backend, store, owned.id, 'pod-on-another-node');
    store.tracking.close();
    await sleep(LEASE_MS * 3);
    const later = await reopen(backend, store);
    // The run a process owned is reaped once its lease expired; the shared one stays for its next task or its finish.
    expect(later.reaped).toEqual([owned.id]);
    expect(await later.runs.reapDeadRuns()).toEqual([]);
    expect((await later.runs.getRun(run.id)).status).toBe('RUNNING');
  });

  it('kiln runs kill ends a shared run whose workflow died without its exit handler, and refuses an ended run', async () => {
    const store = await backend.store();
    const { run } = await store.tracking.runs.joinRun('wf-dead', newRun());
    const node = await store.tracking.runs.startNode(run.id, 'train', { fingerprint: null });
    store.tracking.close();
    const project = makeProject({ 'kiln.yaml': 'name: shared\n' });
    const env = backend.name === 'sqlite' ? {} : { KILN_STORE: store.url! };
    const at = backend.name === 'sqlite' ? store.storeDir.replace(/[/\\]\.kiln$/, '') : project;

    const killed = runCli(['runs', 'kill', run.id.slice(0, 12), '--project', at], { cwd: project, env });
    expect(killed.code, killed.stderr).toBe(0);
    expect(killed.stdout).toBe(`killed run ${run.id}\n`);
    const after = await (await reopen(backend, store)).runs.getRun(run.id);
    expect(after.status).toBe('KILLED');
    expect(after.error).toMatch(/^killed by kiln runs kill on .*; kiln run spam resumes it/);
    expect(after.nodes.find((n) => n.id === node)?.status).toBe('KILLED');

    const again = runCli(['runs', 'kill', run.id, '--project', at], { cwd: project, env });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`error ${'KILN4053'}: run ${run.id} is KILLED, not RUNNING: there is nothing to kill`);
    expect(again.stderr).not.toMatch(/internal error|\n\s+at /);
  });
});
