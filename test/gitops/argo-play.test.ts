// The fanout and scorer fixtures emitted with `kiln emit argo` and played by the Argo harness
// (test/helpers/argo-player.ts): each task attempt a separate OS process in a fresh copy of the project with its own
// empty .kiln/ and HOME. They share nothing but the team stores, reached as the pods reach them: the manifest's env
// takes KILN_STORE and KILN_OBJECTS from the Secret kiln.yaml names (argo.secret), whose values the player holds like
// a cluster would: a PostgreSQL run store and an OCI objects registry, each fresh per test.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { copyProject, repoRoot, tempDir } from '../helpers/project.ts';
import { warmProject } from '../helpers/warm-project.ts';
import { playWorkflow } from '../helpers/argo-player.ts';
import { skipPostgres, startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { startRegistry, type TestRegistry } from '../helpers/oci-registry.ts';
import { openPostgresTracking, openTracking } from '../../src/tracking/index.ts';
import type { RunRecord } from '../../src/tracking/store.ts';

let pg: TestPostgres;
let registry: TestRegistry;
let repositories = 0;

beforeAll(async () => {
  [pg, registry] = await Promise.all([startPostgres(), startRegistry('none')]);
}, 120_000);

afterAll(async () => {
  await Promise.all([pg?.stop(), registry?.stop()]);
});

/** A compiled fixture whose kiln.yaml names the Secret, the Secret's values (fresh stores), and fresh pod copies. */
async function setUp(edit?: (root: string) => void, fixture = 'fanout', pipeline = 'flow') {
  const source = copyProject(fixture, 'kiln-play-src-');
  fs.appendFileSync(path.join(source, 'kiln.yaml'), 'argo:\n  secret: kiln-team\n');
  edit?.(source);
  const template = await warmProject(source);
  const store = await pg.freshStore();
  const objects = `oci://${registry.host}/play/${fixture}-${process.pid}-${++repositories}`;
  const secrets = { 'kiln-team': { store, objects } };
  // What the image holds: the project as committed, no store and no caches (the Dockerfile leaves .kiln out).
  const copy = () => {
    const root = tempDir('kiln-pod-');
    fs.cpSync(template, root, { recursive: true, filter: (s) => path.relative(template, s).split(path.sep)[0] !== '.kiln' });
    fs.mkdirSync(path.join(root, '.kiln'));
    // The dependencies `npm ci` installed in the image (kiln, @types/node for the type-check): read, never written.
    fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(root, 'node_modules'));
    return root;
  };
  const emit = (args: string[] = []) => {
    const r = runCli(['emit', 'argo', pipeline, '--image', 'ghcr.io/acme/fanout:1', ...args], { cwd: template });
    expect(r.code, r.stderr).toBe(0);
    return r.stdout;
  };
  return { template, store, secrets, copy, emit };
}

async function runOf(store: string, key: string): Promise<RunRecord> {
  const t = await openPostgresTracking({ url: store, display: 'postgres://test', variables: ['KILN_STORE'] }, tempDir('kiln-play-reader-'));
  try {
    const runs = await Promise.all((await t.runs.listRuns()).map((r) => t.runs.getRun(r.id)));
    // The task's line names the run it recorded into; the harness knows the key (the workflow uid).
    const ids = runs.filter((r) => r.command.includes(key));
    expect(ids).toHaveLength(1);
    return ids[0];
  } finally {
    t.close();
  }
}

const metricsOf = (r: RunRecord) => Object.fromEntries(Object.entries(r.metrics).map(([k, m]) => [k, m.value]));

describe.skipIf(skipPostgres())('an emitted workflow played task by task over PostgreSQL and an OCI registry', () => {
  it('gives the metrics of a one-process run; a second play skips every node', async () => {
    const { template, store, secrets, copy, emit } = await setUp();
    const manifest = emit();
    const play = await playWorkflow(manifest, { copy, secrets });
    expect(play.status, play.attempts.map((a) => a.stderr).join('\n')).toBe('Succeeded');
    expect(play.attempts.map((a) => a.task).sort()).toEqual(['combine', 'kiln-finish', 'left-branch', 'right-branch', 'summarize']);
    expect(play.exit?.code).toBe(0);
    // Each branch pushed what it wrote under a tag of its own; combine, in another pod, pulled both (and nothing else).
    const stderrOf = (task: string) => play.attempts.find((a) => a.task === task)!.stderr;
    for (const branch of ['left-branch', 'right-branch']) expect(stderrOf(branch)).toMatch(/shared 1 object\(s\) through oci:\/\/[^ ]+:run-\w+-task-[0-9a-f]{12}: 1 uploaded/);
    expect(stderrOf('combine')).toMatch(/pulled 2 object\(s\) \([\d.]+ kB\) from oci:\/\//);
    const run = await runOf(store, play.uid);
    expect(run.status).toBe('FINISHED');

    const single = runCli(['run', 'flow'], { cwd: template });
    expect(single.code, single.stderr).toBe(0);
    const t = openTracking(path.join(template, '.kiln'));
    const [one] = await t.runs.listRuns();
    const alone = await t.runs.getRun(one.id);
    t.close();
    expect(metricsOf(run)).toEqual(metricsOf(alone));

    const again = await playWorkflow(manifest, { copy, secrets });
    expect(again.status).toBe('Succeeded');
    const second = await runOf(store, again.uid);
    expect(second.status).toBe('FINISHED');
    expect(second.nodes).toHaveLength(4);
    expect(second.nodes.every((n) => n.cacheHit)).toBe(true);
  }, 480_000);

  it('builds the artifact in the final task, parity passing, from outputs identical to a one-process run', async () => {
    const { template, store, secrets, copy, emit } = await setUp(undefined, 'scorer', 'score');
    const play = await playWorkflow(emit(), { copy, secrets });
    expect(play.status, play.attempts.map((a) => a.stderr).join('\n')).toBe('Succeeded');
    const finish = play.attempts.find((a) => a.task === 'kiln-finish')!;
    expect(finish.stderr).toMatch(/artifact scorer from run \w+: .*\n\s+parity: \d+ record\(s\) identical to training/);
    // Its pod ran no node: the fitted state and the evaluation inputs came from the registry.
    expect(finish.stderr).toMatch(/pulled \d+ object\(s\) \([\d.]+ kB\) from oci:\/\//);
    const run = await runOf(store, play.uid);
    expect(run.status).toBe('FINISHED');
    expect(run.tags['digest.scorer']).toMatch(/^[0-9a-f]{64}$/);

    expect(runCli(['run', 'score'], { cwd: template }).code).toBe(0);
    const t = openTracking(path.join(template, '.kiln'));
    const alone = await t.runs.getRun((await t.runs.listRuns())[0].id);
    t.close();
    const outputs = (r: RunRecord) => Object.fromEntries(r.nodes.map((n) => [n.node, Object.fromEntries(Object.entries(n.outputs).filter(([k]) => !k.startsWith('__')).map(([k, o]) => [k, o.sha256]))]));
    expect(outputs(run)).toEqual(outputs(alone));
    expect(metricsOf(run)).toEqual(metricsOf(alone));
  }, 480_000);

  it('retries a task killed mid-way, and the run completes', async () => {
    const { store, secrets, copy, emit } = await setUp((root) => {
      const file = path.join(root, 'pipelines', 'flow', 'pipeline.yaml');
      fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('    outputs: left\n', '    outputs: left\n    retries: 2\n'));
    });
    const manifest = emit(['--params', 'delay_ms=1500']);
    const play = await playWorkflow(manifest, {
      copy,
      secrets,
      onStart: (task, attempt, child) => {
        // Killed once its node is running (past the compile), as a pod evicted mid-way.
        if (task === 'left-branch' && attempt === 0) child.stderr!.on('data', (b: Buffer) => b.toString().includes('left_branch: running') && child.kill('SIGKILL'));
      },
    });
    expect(play.status, play.attempts.map((a) => a.stderr).join('\n')).toBe('Succeeded');
    expect(play.attempts.filter((a) => a.task === 'left-branch').map((a) => a.signal ?? a.code)).toEqual(['SIGKILL', 0]);
    const run = await runOf(store, play.uid);
    expect(run.status).toBe('FINISHED');
  }, 480_000);

  it('marks the run FAILED with the failing node and the resume hint', async () => {
    const { store, secrets, copy, emit } = await setUp();
    const play = await playWorkflow(emit(['--params', 'fault=none']), { copy, secrets, parameters: { fault: 'combine:throw' } });
    expect(play.status).toBe('Failed');
    expect(play.attempts.map((a) => a.task)).not.toContain('summarize');
    expect(play.exit!.stderr).toContain('KILN7077');
    const run = await runOf(store, play.uid);
    expect(run.status).toBe('FAILED');
    expect(run.error).toContain("node 'combine' failed");
    expect(run.error).toContain('kiln run flow --params fault=combine:throw --from-nodes "combine"');
  }, 480_000);
});

describe.skipIf(skipPostgres())('a retried task over the team stores', () => {
  it('runs again a node whose earlier attempt recorded it but never got its outputs to the registry', async () => {
    const { store, secrets, copy } = await setUp();
    const env = { KILN_STORE: secrets['kiln-team'].store, KILN_OBJECTS: secrets['kiln-team'].objects };
    const task = ['run', 'flow', '--run-id', 'wf-lost-push', '--task', 'left_branch'];
    const first = runCli(task, { cwd: copy(), env });
    expect(first.code, first.stderr).toBe(0);
    const run = await runOf(store, 'wf-lost-push');
    const left = run.nodes.find((n) => n.node === 'left_branch')!.outputs.left.object!;
    // As if that attempt had been killed after recording the node and before its push: the registry lacks the blob.
    fs.rmSync(path.dirname(registry.blobFile(`sha256:${left}`)), { recursive: true });

    const retry = runCli(task, { cwd: copy(), env });
    expect(retry.code, retry.stderr).toBe(0);
    expect(retry.stderr).not.toContain('finished in an earlier attempt');
    expect(retry.stderr).toMatch(/shared 1 object\(s\) through .*: 1 uploaded/);
    expect(fs.existsSync(registry.blobFile(`sha256:${left}`))).toBe(true);
  }, 240_000);

  it('fails a task whose outputs could not reach the registry (KILN4045), so that Argo retries it', async () => {
    const { secrets, copy } = await setUp();
    // A registry nobody listens on: the node runs and is recorded, its outputs stay in this pod.
    const env = { KILN_STORE: secrets['kiln-team'].store, KILN_OBJECTS: 'oci://127.0.0.1:1/play/unreachable' };
    const r = runCli(['run', 'flow', '--run-id', 'wf-no-registry', '--task', 'left_branch'], { cwd: copy(), env });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('KILN4045');
    expect(r.stderr).toContain('left_branch → left');
  }, 240_000);
});
