// `kiln run` and `kiln runs …` on a PostgreSQL run store (a throw-away cluster): runs recorded and read back from
// two clones with their own .kiln, kiln.yaml's ${NAME} substitution, eight processes at once, the server stopped in
// the middle of a run, and a refused login. Every message names the store with its password masked.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloneProject, warmProject } from '../helpers/warm-project.ts';
import { fixturesDir } from '../helpers/project.ts';
import { skipPostgres, startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { kiln, startKiln, until } from './kiln-process.ts';
import { anchorOf } from '../../src/artifact/anchor.ts';
import { openPostgresTracking } from '../../src/tracking/index.ts';

interface Listed {
  id: string;
  status: string;
}

const noStackTrace = (text: string) => expect(text).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);

describe.skipIf(skipPostgres())('kiln on a PostgreSQL run store', () => {
  let cluster: TestPostgres;
  let mini: string;
  let fanout: string;
  beforeAll(async () => {
    [cluster, mini, fanout] = await Promise.all([startPostgres(), warmProject(path.join(fixturesDir, 'projects', 'mini')), warmProject(path.join(fixturesDir, 'projects', 'fanout'))]);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('records a run that `kiln runs` reads from any clone; a clone with an empty .kiln re-runs nodes whose outputs it lacks', async () => {
    const store = await cluster.freshStore();
    const env = { KILN_STORE: store };
    const a = cloneProject(mini);
    const first = await kiln(['run', '--project', a], a, env);
    expect(first.code, first.stderr).toBe(0);
    const runA = /run (\w+) finished/.exec(first.stderr)![1];
    // The runs are in PostgreSQL; the objects in the clone's .kiln.
    expect(fs.existsSync(path.join(a, '.kiln', 'kiln.db'))).toBe(false);
    expect(fs.readdirSync(path.join(a, '.kiln', 'objects')).length).toBeGreaterThan(0);

    const b = cloneProject(mini);
    fs.rmSync(path.join(b, '.kiln'), { recursive: true, force: true });
    const second = await kiln(['run', '--project', b, '--params', 'scale=3'], b, env);
    expect(second.code, second.stderr).toBe(0);
    const runB = /run (\w+) finished/.exec(second.stderr)![1];

    const list = await kiln(['runs', 'list', '--project', b, '--json'], b, env);
    expect(list.code, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as Listed[]).map((r) => [r.id, r.status])).toEqual([
      [runB, 'FINISHED'],
      [runA, 'FINISHED'],
    ]);
    const show = await kiln(['runs', 'show', runA, '--project', b, '--json'], b, env);
    expect(show.code, show.stderr).toBe(0);
    const recA = JSON.parse(show.stdout) as { command: string[]; nodes: Array<{ node: string; cacheHit: boolean; fingerprint: string }>; params: Record<string, unknown> };
    expect(recA.params).toMatchObject({ scale: 2 });
    const showB = JSON.parse((await kiln(['runs', 'show', runB, '--project', a, '--json'], a, env)).stdout) as typeof recA;
    // Another parameter: both nodes ran afresh (scale's fingerprint changed, and so did summarize's input).
    expect(showB.nodes.map((n) => [n.node, n.cacheHit])).toEqual([
      ['scale', false],
      ['summarize', false],
    ]);
    const compare = await kiln(['runs', 'compare', runA, runB, '--project', a, '--json'], a, env);
    expect(compare.code, compare.stderr).toBe(0);
    expect(compare.stdout).toContain('scale');
    const search = await kiln(['runs', 'search', 'params.scale = 3', '--project', a, '--json'], a, env);
    expect(search.code, search.stderr).toBe(0);
    expect((JSON.parse(search.stdout) as Listed[]).map((r) => r.id)).toEqual([runB]);

    // A third run in B with A's parameters: A recorded those fingerprints, but B has not got A's outputs. It re-runs
    // the nodes (no false hit, no crash); its own outputs then serve the next run in B.
    const third = await kiln(['run', '--project', b, '--json'], b, env);
    expect(third.code, third.stderr).toBe(0);
    const runC = JSON.parse(third.stdout) as { run_id: string };
    const recC = JSON.parse((await kiln(['runs', 'show', runC.run_id, '--project', b, '--json'], b, env)).stdout) as typeof recA;
    expect(recC.nodes.map((n) => [n.node, n.cacheHit])).toEqual([
      ['scale', false],
      ['summarize', false],
    ]);
    expect(recC.nodes.map((n) => n.fingerprint)).toEqual(recA.nodes.map((n) => n.fingerprint));
    const fourth = await kiln(['run', '--project', b, '--json'], b, env);
    const recD = JSON.parse((await kiln(['runs', 'show', (JSON.parse(fourth.stdout) as { run_id: string }).run_id, '--project', b, '--json'], b, env)).stdout) as typeof recA;
    expect(recD.nodes.map((n) => [n.node, n.cacheHit])).toEqual([
      ['scale', true],
      ['summarize', true],
    ]);
  });

  it("reads the password from the variable kiln.yaml's store URL names, and never records or prints it", async () => {
    const store = await cluster.freshStore();
    const root = cloneProject(mini);
    const yaml = path.join(root, 'kiln.yaml');
    fs.appendFileSync(yaml, `store: '${store.replace(cluster.password, '${KILN_TEST_PG_PASSWORD}')}'\n`);
    const unset = await kiln(['run', '--project', root], root, { KILN_TEST_PG_PASSWORD: undefined });
    expect(unset.code).toBe(1);
    expect(unset.stderr).toMatch(/kiln\.yaml:\d+:8 error KILN1028: .*KILN_TEST_PG_PASSWORD/);
    noStackTrace(unset.stderr);

    const ok = await kiln(['run', '--project', root], root, { KILN_TEST_PG_PASSWORD: cluster.password });
    expect(ok.code, ok.stderr).toBe(0);
    const show = await kiln(['runs', 'show', /run (\w+) finished/.exec(ok.stderr)![1], '--project', root, '--json'], root, { KILN_TEST_PG_PASSWORD: cluster.password });
    expect(show.code, show.stderr).toBe(0);
    expect(`${ok.stdout}${ok.stderr}${show.stdout}`).not.toContain(cluster.password);
  });

  it('eight runs started at once against one PostgreSQL are all recorded', async () => {
    const env = { KILN_STORE: await cluster.freshStore() };
    const roots = [cloneProject(mini), cloneProject(mini)];
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => kiln(['run', '--project', roots[i % 2]], roots[i % 2], env)));
    for (const [i, r] of results.entries()) expect(r.code, `process ${i}: ${r.stderr}`).toBe(0);
    const list = await kiln(['runs', 'list', '--project', roots[0], '--json'], roots[0], env);
    const runs = JSON.parse(list.stdout) as Listed[];
    expect(runs).toHaveLength(8);
    expect(runs.map((r) => r.status)).toEqual(Array(8).fill('FINISHED'));
  });

  it('a server stopped in the middle of a run: exit 1 naming the store (masked) and what to retry; the retry records the run', async () => {
    const env = { KILN_STORE: await cluster.freshStore() };
    const root = cloneProject(fanout);
    const child = startKiln(['run', '--project', root, '--params', 'delay_ms=3000'], root, env);
    await until(() => child.stderr().includes('left_branch: running') || child.proc.exitCode !== null, 'the slow node to start');
    cluster.stopServer();
    try {
      const ended = await child.exited;
      expect(ended.code, ended.stderr).toBe(1);
      expect(ended.stderr).toContain('KILN4033');
      expect(ended.stderr).toContain(`postgres://kiln:***@127.0.0.1:${cluster.port}/postgres`);
      expect(ended.stderr).toMatch(/run the same kiln command again/);
      expect(ended.stderr).not.toContain(cluster.password);
      noStackTrace(ended.stderr);
    } finally {
      cluster.startServer();
    }
    const retry = await kiln(['run', '--project', root], root, env);
    expect(retry.code, retry.stderr).toBe(0);
    const runs = JSON.parse((await kiln(['runs', 'list', '--project', root, '--json'], root, env)).stdout) as Listed[];
    // The cut-off run's process is gone: the next open marked it KILLED.
    expect(runs.map((r) => r.status)).toEqual(['FINISHED', 'KILLED']);
  });

  it("anchors an artifact a run built in .kiln/artifacts by that run's record in PostgreSQL", async () => {
    const store = await cluster.freshStore();
    const root = cloneProject(await warmProject(path.join(fixturesDir, 'projects', 'scorer')));
    const r = await kiln(['run', '--project', root, '--json'], root, { KILN_STORE: store });
    expect(r.code, r.stderr).toBe(0);
    const runId = (JSON.parse(r.stdout) as { run_id: string }).run_id;
    const dir = path.join(root, '.kiln', 'artifacts', 'scorer', runId);
    const saved = process.env.KILN_STORE;
    process.env.KILN_STORE = store;
    try {
      const t = await openPostgresTracking({ url: store, display: 'test', variables: [] }, path.join(root, '.kiln'));
      const digest = (await t.runs.getRun(runId)).tags['digest.scorer'];
      t.close();
      expect(digest).toMatch(/^[0-9a-f]{64}$/);
      expect(await anchorOf(dir)).toBe(digest);
    } finally {
      if (saved === undefined) delete process.env.KILN_STORE;
      else process.env.KILN_STORE = saved;
    }
  });

  it('a refused login: exit 1 naming the store and the variable to set', async () => {
    const root = cloneProject(mini);
    const wrong = (await cluster.freshStore()).replace(cluster.password, 'wrong-password');
    const r = await kiln(['runs', 'list', '--project', root], root, { KILN_STORE: wrong });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('KILN4034');
    expect(r.stderr).toContain(`127.0.0.1:${cluster.port}`);
    expect(r.stderr).toContain('KILN_STORE');
    expect(r.stderr).not.toContain('wrong-password');
    noStackTrace(r.stderr);
  });
});
