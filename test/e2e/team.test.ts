// Issue 15's acceptance: the team loop across three machines. Three git clones of the scorer project, each with its
// own .kiln/ and HOME, share only a real PostgreSQL run store (KILN_STORE) and a real registry (Distribution 2.8 with
// basic auth) for node outputs (KILN_OBJECTS) and published models (publish.target in kiln.yaml). The registry is
// reached through a pass-through proxy so that a test can stop it at an exact request. The scorer stands in for the
// flagship, whose training is too long for this suite: test/flagship runs the flagship through the same run → artifact
// → predict/serve path (on one machine), and nothing here depends on which model travels through the stores.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OciClient } from '../../src/oci/client.ts';
import { startRegistry, type TestRegistry } from '../helpers/oci-registry.ts';
import { startRegistryProxy, type RegistryProxy } from '../helpers/registry-proxy.ts';
import { skipPostgres, startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { commitAll, checkoutNewBranch, gitInit, kilnHere, repoRoot, tempDir } from '../gitops/support.ts';
import { kiln as kilnProcess, startKiln, until } from './kiln-process.ts';
import type { RunJson } from '../../src/cli/run-json.ts';

const noStackTrace = (text: string) => expect(text).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);

describe.skipIf(skipPostgres())('the team loop on three machines sharing PostgreSQL and an OCI registry', () => {
  let pg: TestPostgres;
  let reg: TestRegistry;
  let proxy: RegistryProxy;
  let store: string;
  let origin: string;
  const homes = new Map<string, string>();

  /** `kiln <args>` on machine `root`: its own HOME (no Docker config, no pull cache shared), the shared stores. */
  const kiln = (root: string, args: string[], env: Record<string, string | undefined> = {}) => {
    if (!homes.has(root)) homes.set(root, tempDir('kiln-team-home-'));
    return kilnProcess(args, root, {
      HOME: homes.get(root)!,
      DOCKER_CONFIG: undefined,
      KILN_CACHE_DIR: undefined,
      XDG_CACHE_HOME: undefined,
      KILN_PUBLISH_TARGET: undefined,
      KILN_STORE: store,
      KILN_OBJECTS: `oci://${proxy.host}/acme/kiln-objects`,
      KILN_REGISTRY_USERNAME: reg.user,
      KILN_REGISTRY_PASSWORD: reg.password,
      ...env,
    });
  };
  const ok = async (root: string, args: string[], env: Record<string, string | undefined> = {}) => {
    const r = await kiln(root, args, env);
    expect(r.code, `kiln ${args.join(' ')}\n${r.stderr}`).toBe(0);
    return r;
  };
  const runJson = async (root: string, args: string[] = []) => JSON.parse((await ok(root, ['run', '--json', ...args])).stdout) as RunJson;
  const statuses = (r: RunJson) => Object.fromEntries(r.nodes.map((n) => [n.node, n.status]));
  const git = (cwd: string, ...args: string[]) => {
    const r = spawnSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', ...args], { cwd, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout;
  };
  /** Another machine: a git clone of A, without anything A has in .kiln/ or data/ (both ignored). */
  const cloneA = () => {
    const dir = path.join(tempDir('kiln-team-machine-'), 'scorer');
    git(os.tmpdir(), 'clone', '-q', origin, dir);
    return dir;
  };
  const setThreshold = (root: string, value: string) => {
    const file = path.join(root, 'pipelines/parameters.yaml');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/threshold: [\d.]+/, `threshold: ${value}`));
  };
  const parityOf = (root: string, run: string) =>
    fs.readFileSync(path.join(root, '.kiln/artifacts/scorer', run, 'parity.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { input: unknown; output: unknown });
  const registryClient = (repository = 'acme/scorer') => new OciClient({ registry: reg.host, repository }, { credential: { username: reg.user, password: reg.password, source: 'test' } });
  const modelTags = async () => (await registryClient().listTags()).sort();

  /** Serves `reference` on machine `root`, sends the parity inputs, and returns the predictions as JSON text. */
  async function servePredictions(root: string, reference: string, inputs: unknown[]): Promise<string> {
    const server = startKiln(['serve', reference, '--port', '0', '--workers', '1'], root, {
      HOME: homes.get(root)!,
      DOCKER_CONFIG: undefined,
      KILN_CACHE_DIR: undefined,
      XDG_CACHE_HOME: undefined,
      KILN_STORE: store,
      KILN_REGISTRY_USERNAME: reg.user,
      KILN_REGISTRY_PASSWORD: reg.password,
    });
    try {
      await until(() => /on (http:\/\/\S+)/.test(server.stderr()) || server.proc.exitCode !== null, 'the server to listen', 60_000);
      const url = /on (http:\/\/\S+)/.exec(server.stderr())?.[1];
      expect(url, server.stderr()).toBeDefined();
      const res = await fetch(`${url}/invocations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: inputs }) });
      expect(res.status).toBe(200);
      return JSON.stringify(((await res.json()) as { predictions: unknown[] }).predictions);
    } finally {
      server.proc.kill('SIGTERM');
      await server.exited;
    }
  }

  let a: string;
  let b: string;
  let runA1: string;
  let v1Run: string;
  let v2Run: string;

  beforeAll(async () => {
    [pg, reg] = await Promise.all([startPostgres(), startRegistry('basic')]);
    proxy = await startRegistryProxy(reg.host);
    store = await pg.freshStore();
    origin = path.join(tempDir('kiln-team-a-'), 'scorer');
    fs.cpSync(path.join(repoRoot, 'test/fixtures/projects/scorer'), origin, { recursive: true });
    fs.writeFileSync(path.join(origin, '.gitignore'), '.kiln/\ndata/\n');
    const pipeline = path.join(origin, 'pipelines/score/pipeline.yaml');
    fs.writeFileSync(pipeline, `${fs.readFileSync(pipeline, 'utf8')}    better_than: production\n`);
    fs.appendFileSync(path.join(origin, 'kiln.yaml'), `publish:\n  target: oci://${proxy.host}/acme\n`);
    expect((await kilnHere(['compile', '--no-typecheck'], origin)).code).toBe(0);
    await gitInit(origin);
    await commitAll(origin, 'scorer, published to the team registry');
    a = origin;
  }, 60_000);

  afterAll(async () => {
    await proxy?.close();
    await reg?.stop();
    await pg?.stop();
  });

  it('A on main runs and publishes v1', async () => {
    const run = await runJson(a);
    expect(run.status).toBe('FINISHED');
    expect(Object.values(statuses(run))).toEqual(['ran', 'ran', 'ran', 'ran']);
    runA1 = run.run_id!;
    const published = JSON.parse((await ok(a, ['publish', '--json'])).stdout) as { version: number; run: string };
    expect(published).toMatchObject({ version: 1, run: runA1 });
    v1Run = published.run;
    expect(await modelTags()).toEqual(['production', 'v1']);
  });

  it('B on a branch: plan lists the nodes, run re-runs only those (the rest pulled from the registry), report compares with A', async () => {
    b = cloneA();
    await checkoutNewBranch(b, 'threshold');
    setThreshold(b, '0.55');
    await commitAll(b, 'threshold 0.55');

    const plan = await ok(b, ['plan']);
    expect(plan.stdout).toContain('~ threshold: 0.5 → 0.55');
    expect(plan.stdout).toContain('pipeline score: 1 of 4 nodes will re-run, 1 may re-run');
    expect(plan.stdout).toMatch(/will re-run:\n +score +parameter threshold changed\n/);
    expect(plan.stdout).toMatch(/may re-run \(only if a node above writes different bytes\):\n +evaluate +upstream re-runs: score\n/);

    proxy.reset();
    const ran = await ok(b, ['run', '--json']);
    const run = JSON.parse(ran.stdout) as RunJson;
    expect(ran.stderr).toMatch(/pulled \d+ object\(s\)/);
    expect(statuses(run)).toEqual({ split: 'skipped', fit: 'skipped', score: 'ran', evaluate: 'ran' });
    for (const n of run.nodes.filter((x) => x.status === 'skipped')) expect(n.reused_from).toBe(runA1);
    expect(run.metrics.accuracy).toBe(1);
    // score read A's fitted stats and test split: they came from the registry, byte-identical to A's.
    expect(proxy.blobsFetched().length).toBeGreaterThan(0);
    expect(fs.readFileSync(path.join(b, 'data/stats.json'))).toEqual(fs.readFileSync(path.join(a, 'data/stats.json')));

    const report = await ok(b, ['report']);
    // The base's run is A's, found in PostgreSQL: B never had it in a .kiln/ of its own.
    expect(report.stdout).toMatch(new RegExp(`\\| Base \\(\`main\`\\) \\| \`[0-9a-f]{7}\` \\| \`${runA1}\` \\|`));
    expect(report.stdout).toContain(`| HEAD | \`${git(b, 'rev-parse', '--short=7', 'HEAD').trim()}\` | \`${run.run_id}\` |`);
    expect(report.stdout).toContain('| `accuracy` | 0.9 | 1 | ↑ +0.1 (+11.1%) |');
    expect(report.stdout).not.toMatch(/no FINISHED run/);
  });

  it('A refuses to publish a worse change against v1, and after the merge publishes v2 gated against v1', async () => {
    setThreshold(a, '0.95');
    await commitAll(a, 'threshold 0.95');
    await ok(a, ['run']);
    const worse = await kiln(a, ['publish']);
    expect(worse.code).toBe(1);
    expect(worse.stderr).toContain("KILN7010: cannot publish 'scorer': accuracy is 0.7, worse than production (v1: 0.9)");
    expect(await modelTags()).toEqual(['production', 'v1']);
    git(a, 'reset', '-q', '--hard', 'HEAD~1');

    git(a, 'fetch', '-q', b, 'threshold');
    git(a, 'merge', '-q', '--ff-only', 'FETCH_HEAD');
    const run = await runJson(a);
    // B recorded these executions and pushed their outputs: A re-runs nothing.
    expect(Object.values(statuses(run))).toEqual(['skipped', 'skipped', 'skipped', 'skipped']);
    const published = await ok(a, ['publish', '--json']);
    const out = JSON.parse(published.stdout) as { version: number; run: string; gate: string[] };
    expect(out).toMatchObject({ version: 2, run: run.run_id });
    // Production's metrics come from v1's record on the registry, not from anything A kept locally.
    expect(out.gate).toContain('accuracy 1 >= 0.9 of production (v1)');
    v2Run = out.run;
    const text = await ok(a, ['registry', 'show', 'scorer']);
    expect(text.stdout).toMatch(/production→v2/);
  });

  it('C, with an empty .kiln, serves production from the registry as training computed; after a rollback and a restart, v1', async () => {
    const c = cloneA();
    homes.set(c, tempDir('kiln-team-home-'));
    const v2 = parityOf(a, v2Run);
    const v1 = parityOf(a, v1Run);
    // The rollback is only visible if the versions answer differently on these records.
    expect(JSON.stringify(v2.map((p) => p.output))).not.toBe(JSON.stringify(v1.map((p) => p.output)));
    const production = `oci://${proxy.host}/acme/scorer:production`;
    expect(await servePredictions(c, production, v2.map((p) => p.input))).toBe(JSON.stringify(v2.map((p) => p.output)));
    expect(fs.existsSync(path.join(c, '.kiln'))).toBe(false);

    const back = await ok(c, ['registry', 'rollback', 'scorer', '--json']);
    expect(JSON.parse(back.stdout)).toMatchObject({ alias: 'production', previous: 2, version: 1 });
    expect(await servePredictions(c, production, v1.map((p) => p.input))).toBe(JSON.stringify(v1.map((p) => p.output)));
  });

  it('PostgreSQL stopped in the middle of a run: exit 1 naming the store, nothing recorded as finished, the retry runs the node again and succeeds', async () => {
    const d = cloneA();
    let stopped = false;
    // Stopped while the run pulls what its first re-run node reads: after the run began, before that node is recorded.
    proxy.before = async (r) => {
      if (!stopped && r.method === 'GET' && r.path.includes('/blobs/')) {
        stopped = true;
        pg.stopServer();
      }
    };
    let cut: RunJson;
    try {
      const r = await kiln(d, ['run', '--json', '--no-package', '--params', 'threshold=0.45']);
      expect(stopped).toBe(true);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain('KILN4033');
      expect(r.stderr).toContain(`postgres://kiln:***@127.0.0.1:${pg.port}/postgres`);
      expect(r.stderr).toContain('run the same kiln command again');
      expect(r.stderr).not.toContain(pg.password);
      noStackTrace(r.stderr);
      cut = JSON.parse(r.stdout) as RunJson;
    } finally {
      proxy.before = null;
      pg.startServer();
    }
    // 0.45 changes the predictions, so evaluate re-runs too: nothing of the cut-off run was taken as done.
    const retry = await runJson(d, ['--no-package', '--params', 'threshold=0.45']);
    expect(statuses(retry)).toEqual({ split: 'skipped', fit: 'skipped', score: 'ran', evaluate: 'ran' });
    if (cut.run_id) {
      const show = JSON.parse((await ok(d, ['runs', 'show', cut.run_id, '--json'])).stdout) as { status: string };
      expect(show.status).not.toBe('FINISHED');
    }
  });

  it('the registry stopped during a publish: exit 1 naming it, no tag on an incomplete artifact, the retry publishes', async () => {
    setThreshold(a, '0.6');
    await commitAll(a, 'threshold 0.6');
    await ok(a, ['run']);
    const tagsBefore = await modelTags();
    const productionBefore = await registryClient().tagDigest('production');
    proxy.before = async (r) => {
      if (r.method === 'PUT' && r.path.startsWith('/v2/acme/scorer/manifests/')) {
        proxy.before = null;
        await reg.stop({ keepStorage: true });
      }
    };
    const r = await kiln(a, ['publish']);
    proxy.before = null;
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`KILN7050: cannot reach the OCI registry ${proxy.host}`);
    expect(r.stderr).toContain('run the same command again');
    noStackTrace(r.stderr);
    reg = await startRegistry('basic', reg);
    proxy.retarget(reg.host);
    expect(await modelTags()).toEqual(tagsBefore);
    expect(await registryClient().tagDigest('production')).toBe(productionBefore);
    const retry = JSON.parse((await ok(a, ['publish', '--json'])).stdout) as { version: number };
    expect(retry.version).toBe(3);
    expect(await registryClient().tagDigest('production')).toBe(await registryClient().tagDigest('v3'));
  });

  it('8 runs at once from two clones are all recorded', async () => {
    const runs = await Promise.all(Array.from({ length: 8 }, (_, i) => kiln(i % 2 ? a : b, ['run', '--json', '--no-package', '--params', `threshold=0.7${i}`])));
    for (const [i, r] of runs.entries()) expect(r.code, `run ${i}: ${r.stderr}`).toBe(0);
    const ids = runs.map((r) => (JSON.parse(r.stdout) as RunJson).run_id);
    const listed = JSON.parse((await ok(cloneA(), ['runs', 'list', '--json', '--limit', '100'])).stdout) as Array<{ id: string; status: string }>;
    for (const id of ids) expect(listed.find((x) => x.id === id)?.status, id!).toBe('FINISHED');
  });

  it('wrong registry credentials: exit 1 naming the registry and the variable to set, never the secret', async () => {
    const e = cloneA();
    const r = await kiln(e, ['run', '--no-package', '--params', 'threshold=0.65'], { KILN_REGISTRY_PASSWORD: 'wrong-secret-123' });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(proxy.host);
    expect(r.stderr).toContain('KILN_REGISTRY_PASSWORD');
    expect(r.stderr + r.stdout).not.toContain('wrong-secret-123');
    noStackTrace(r.stderr);
    const p = await kiln(a, ['registry', 'list'], { KILN_REGISTRY_PASSWORD: 'wrong-secret-123' });
    expect(p.code, p.stderr).toBe(1);
    expect(p.stderr).toContain(`KILN7051: the OCI registry ${proxy.host}`);
    expect(p.stderr).toContain('KILN_REGISTRY_PASSWORD');
  });
});
