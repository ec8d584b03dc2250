// Node outputs shared through an OCI registry (kiln.yaml `objects:`): the real registry (Debian's docker-registry,
// htpasswd basic auth) behind a pass-through proxy that records which blobs kiln downloads, and separate clones of one
// small project, each with its own .kiln/ and HOME, as separate machines. The run records are shared by copying
// clone A's SQLite run database into the others' .kiln/: that is what a shared run store (PostgreSQL, being built
// separately) gives every machine, and this suite is about the objects, not about how the records travel.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kiln as kilnProcess } from '../e2e/kiln-process.ts';
import { copyProject, makeProject, tempDir } from '../helpers/project.ts';
import { cloneProject, warmProject } from '../helpers/warm-project.ts';
import { startRegistry, type TestRegistry } from '../helpers/oci-registry.ts';
import { startRegistryProxy, type RegistryProxy } from '../helpers/registry-proxy.ts';
import { hashFile, hashTree } from '../../src/tracking/objects.ts';
import { OciClient } from '../../src/oci/client.ts';

const NODES = `export function prepare(raw: unknown): number[] {
  return (raw as number[]).map((v) => v * 2);
}

export function summarize(features: number[], offset: number): { total: number } {
  return { total: features.reduce((a, b) => a + b, 0) + offset };
}

export function shard(raw: unknown): Record<string, number[]> {
  const values = raw as number[];
  return { low: values.filter((v) => v < 5), high: values.filter((v) => v >= 5) };
}

// A partitioned input arrives as one loader per partition.
export async function tally(shards: Record<string, unknown>, threshold: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [id, part] of Object.entries(shards)) {
    const values = (typeof part === 'function' ? await (part as () => Promise<unknown>)() : part) as number[];
    out[id] = values.filter((v) => v >= threshold).length;
  }
  return out;
}

export function report(counts: Record<string, number>): { counts: Record<string, number> } {
  return { counts };
}
`;

// prepare → summarize reads a file output; shard → tally reads a folder (a tree object); tally → report passes an
// in-memory value. A change of `offset` re-runs summarize only, so it needs features and nothing else.
const files = (objects: string): Record<string, string> => ({
  'kiln.yaml': `name: team\nobjects: ${objects}\n`,
  'pipelines/catalog.yaml': [
    'raw: { type: json, path: data/raw.json }',
    'features: { type: json, path: data/features.json }',
    'shards: { type: partitioned, path: data/shards, options: { dataset: json, suffix: .json } }',
    'summary: { type: json, path: data/summary.json }',
    'report: { type: json, path: data/report.json }',
    '',
  ].join('\n'),
  'pipelines/parameters.yaml': 'offset: 1\nthreshold: 3\n',
  'pipelines/team/pipeline.yaml': [
    'pipeline: team',
    'nodes:',
    '  - { name: prepare, run: ./nodes.ts#prepare, inputs: raw, outputs: features }',
    '  - { name: summarize, run: ./nodes.ts#summarize, inputs: [features, params:offset], outputs: summary }',
    '  - { name: shard, run: ./nodes.ts#shard, inputs: raw, outputs: shards }',
    '  - { name: tally, run: ./nodes.ts#tally, inputs: [shards, params:threshold], outputs: counts }',
    '  - { name: report, run: ./nodes.ts#report, inputs: counts, outputs: report }',
    '',
  ].join('\n'),
  'pipelines/team/nodes.ts': NODES,
  'data/raw.json': JSON.stringify(Array.from({ length: 4000 }, (_, i) => i % 10)),
});

let reg: TestRegistry;
let proxy: RegistryProxy;
let template: string;
let remote: string;
let a: string;
let aRun: string;

/** A machine: a fresh clone with its own HOME (no Docker config) and, when `records`, clone A's run records. */
// Children run asynchronously: the proxy serves them from this process, which a spawnSync would block.
function machine(records: boolean): { root: string; kiln: (args: string[], env?: Record<string, string | undefined>) => ReturnType<typeof kilnProcess> } {
  const root = cloneProject(template, 'kiln-machine-');
  const home = tempDir('kiln-home-');
  if (records) for (const f of ['kiln.db', 'kiln.db-wal']) if (fs.existsSync(path.join(a, '.kiln', f))) fs.copyFileSync(path.join(a, '.kiln', f), path.join(root, '.kiln', f));
  const kiln = (args: string[], env: Record<string, string | undefined> = {}) =>
    kilnProcess(args, root, { HOME: home, DOCKER_CONFIG: undefined, KILN_OBJECTS: undefined, KILN_REGISTRY_USERNAME: reg.user, KILN_REGISTRY_PASSWORD: reg.password, ...env });
  return { root, kiln };
}

const runIdOf = (stderr: string) => /run ([0-9a-z]{26}) (?:finished|is recorded)/.exec(stderr)?.[1] ?? '';
const client = () => new OciClient({ registry: proxy.host, repository: 'team/cache' }, { credential: { username: reg.user, password: reg.password, source: 'test' } });
const setParam = (root: string, line: string, value: string) => {
  const file = path.join(root, 'pipelines/parameters.yaml');
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(new RegExp(`^${line}: .*$`, 'm'), `${line}: ${value}`));
};

beforeAll(async () => {
  reg = await startRegistry('basic');
  proxy = await startRegistryProxy(reg.host);
  remote = `oci://${proxy.host}/team/cache`;
  template = await warmProject(makeProject(files(remote), 'kiln-team-'));
  const m = machine(false);
  a = m.root;
  const r = await m.kiln(['run']);
  expect(r.stderr).not.toMatch(/error KILN/);
  expect(r.code).toBe(0);
  aRun = runIdOf(r.stderr);
  expect(r.stderr).toMatch(new RegExp(`shared 7 object\\(s\\) through ${remote.replace(/\./g, '\\.')}:run-${aRun}: 7 uploaded`));
}, 180_000);

afterAll(async () => {
  await proxy?.close();
  await reg?.stop();
});

describe('outputs shared through an OCI registry', () => {
  it("pushes a run's objects with one manifest tagged run-<id> that lists a tree's files before the tree", async () => {
    const got = await client().getManifest(`run-${aRun}`);
    expect(got).not.toBeNull();
    const manifest = JSON.parse(got!.bytes.toString('utf8')) as { artifactType: string; layers: Array<{ digest: string; size: number }>; annotations: Record<string, string> };
    expect(manifest.artifactType).toBe('application/vnd.kiln.run-objects.v1');
    expect(manifest.annotations['dev.kiln.run-id']).toBe(aRun);
    const digests = manifest.layers.map((l) => l.digest);
    const features = `sha256:${await hashFile(path.join(a, 'data/features.json'))}`;
    const tree = `sha256:${await hashTree(path.join(a, 'data/shards'))}`;
    const low = `sha256:${await hashFile(path.join(a, 'data/shards/low.json'))}`;
    expect(digests).toContain(features);
    expect(digests.indexOf(low)).toBeGreaterThanOrEqual(0);
    expect(digests.indexOf(low)).toBeLessThan(digests.indexOf(tree));
    // Every layer is a blob of the registry, of the size the manifest says.
    for (const l of manifest.layers) expect(fs.statSync(reg.blobFile(l.digest)).size).toBe(l.size);
  });

  it("machine B, with A's records and an empty object store, skips every node A ran and pulls only the input of the node it re-runs", async () => {
    const b = machine(true);
    setParam(b.root, 'offset', '10');
    proxy.reset();
    const r = await b.kiln(['run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('4 skipped as unchanged');
    // summarize re-ran and read features: that object, and nothing else, came from the registry.
    expect(proxy.blobsFetched()).toEqual([`sha256:${await hashFile(path.join(a, 'data/features.json'))}`]);
    expect(r.stderr).toContain(`pulled 1 object(s)`);
    expect(fs.readFileSync(path.join(b.root, 'data/features.json'))).toEqual(fs.readFileSync(path.join(a, 'data/features.json')));
    const total = (root: string) => (JSON.parse(fs.readFileSync(path.join(root, 'data/summary.json'), 'utf8')) as { total: number }).total;
    expect(total(b.root)).toBe(total(a) + 9);
    // Outputs nobody read stay on the registry.
    for (const p of ['data/shards', 'data/report.json']) expect(fs.existsSync(path.join(b.root, p))).toBe(false);
  });

  it('a fully cached run pulls nothing; a node that reads a folder output pulls its tree and files, byte-identical', async () => {
    const c = machine(true);
    proxy.reset();
    const cached = await c.kiln(['run']);
    expect(cached.code, cached.stderr).toBe(0);
    expect(cached.stderr).toContain('all skipped as unchanged');
    expect(proxy.blobsFetched()).toEqual([]);
    expect(cached.stderr).not.toContain('pulled');

    proxy.reset();
    const r = await c.kiln(['run', '--params', 'threshold=5']);
    expect(r.code, r.stderr).toBe(0);
    const shards = path.join(a, 'data/shards');
    const want = [await hashTree(shards), await hashFile(path.join(shards, 'high.json')), await hashFile(path.join(shards, 'low.json'))].map((h) => `sha256:${h}`);
    expect(proxy.blobsFetched().sort()).toEqual(want.sort());
    for (const f of ['high.json', 'low.json']) expect(fs.readFileSync(path.join(c.root, 'data/shards', f))).toEqual(fs.readFileSync(path.join(shards, f)));
    expect(JSON.parse(fs.readFileSync(path.join(c.root, 'data/report.json'), 'utf8'))).toEqual({ counts: { high: 2000, low: 0 } });
  });

  it('a fully cached run that builds the artifact pulls only what the build needs (fitted state, parity records), and parity holds', async () => {
    const scorer = await warmProject(copyProject('scorer', 'kiln-scorer-'));
    fs.writeFileSync(path.join(scorer, 'kiln.yaml'), `name: scorer\nobjects: ${remote}\n`);
    const env = { HOME: tempDir('kiln-home-'), KILN_OBJECTS: undefined, KILN_REGISTRY_USERNAME: reg.user, KILN_REGISTRY_PASSWORD: reg.password };
    const sa = cloneProject(scorer, 'kiln-scorer-a-');
    const ra = await kilnProcess(['run'], sa, env);
    expect(ra.code, ra.stderr).toBe(0);
    const run = JSON.parse((await kilnProcess(['runs', 'list', '--json'], sa, env)).stdout)[0].id as string;
    const nodes = (JSON.parse((await kilnProcess(['runs', 'show', run, '--json'], sa, env)).stdout) as { nodes: Array<{ node: string; outputs: Record<string, { object: string }> }> }).nodes;
    const object = (node: string, dataset: string) => `sha256:${nodes.find((n) => n.node === node)!.outputs[dataset].object}`;

    const sb = cloneProject(scorer, 'kiln-scorer-b-');
    fs.copyFileSync(path.join(sa, '.kiln/kiln.db'), path.join(sb, '.kiln/kiln.db'));
    proxy.reset();
    const rb = await kilnProcess(['run'], sb, env);
    expect(rb.code, rb.stderr).toBe(0);
    expect(rb.stderr).toContain('all skipped as unchanged');
    expect(rb.stderr).toMatch(/parity: \d+ record\(s\) identical to training/);
    const fetched = proxy.blobsFetched();
    // The fitted state, the records parity replays and what training predicted for them, and evaluate's logged
    // metrics (replayed into B's record); never the training split, which nothing of the artifact reads.
    expect(fetched).toEqual(expect.arrayContaining([object('fit', 'stats'), object('split', 'test_rows'), object('score', 'predictions')]));
    expect(fetched).not.toContain(object('split', 'train_rows'));
    expect(fetched).toHaveLength(4);
    expect(JSON.parse((await kilnProcess(['runs', 'show', JSON.parse((await kilnProcess(['runs', 'list', '--json'], sb, env)).stdout)[0].id, '--json'], sb, env)).stdout).metrics.accuracy.value).toBe(
      JSON.parse((await kilnProcess(['runs', 'show', run, '--json'], sa, env)).stdout).metrics.accuracy.value,
    );
  });

  it('refuses a tampered blob (KILN4046 naming the remote and the digest) and keeps nothing of it; KILN_OBJECTS overrides kiln.yaml', async () => {
    const d = machine(true);
    // kiln.yaml points nowhere: only the environment's repository can answer.
    fs.writeFileSync(path.join(d.root, 'kiln.yaml'), 'name: team\nobjects: oci://127.0.0.1:9/nowhere/cache\n');
    setParam(d.root, 'offset', '20');
    const hash = await hashFile(path.join(a, 'data/features.json'));
    const blob = reg.blobFile(`sha256:${hash}`);
    const original = fs.readFileSync(blob);
    const tampered = Buffer.from(original);
    tampered[5] ^= 1;
    fs.writeFileSync(blob, tampered);
    try {
      const r = await d.kiln(['run'], { KILN_OBJECTS: remote });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('KILN4046');
      expect(r.stderr).toContain(`refused object sha256:${hash} from ${remote}`);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(fs.existsSync(path.join(d.root, '.kiln/objects', hash.slice(0, 2), hash.slice(2)))).toBe(false);
      expect(fs.existsSync(path.join(d.root, 'data/features.json'))).toBe(false);
      // Truncated: refused the same way.
      fs.writeFileSync(blob, original.subarray(0, original.length - 10));
      const again = await d.kiln(['run'], { KILN_OBJECTS: remote });
      expect(again.code).toBe(1);
      expect(again.stderr).toContain(`refused object sha256:${hash} from ${remote}`);
    } finally {
      fs.writeFileSync(blob, original);
    }
  });

  it('wrong credentials: exit 1 naming the registry and the variables to set, never the secret', async () => {
    const e = machine(true);
    setParam(e.root, 'offset', '30');
    const r = await e.kiln(['run'], { KILN_REGISTRY_PASSWORD: 'not-the-secret-4711' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('KILN7051');
    expect(r.stderr).toContain(proxy.host);
    expect(r.stderr).toContain('KILN_REGISTRY_PASSWORD');
    expect(r.stderr).not.toContain('not-the-secret-4711');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('registry stopped mid-push: the run is recorded here, KILN4045 says what to retry, no manifest; `kiln objects push` finishes it', async () => {
    const f = machine(false);
    fs.writeFileSync(path.join(f.root, 'data/raw.json'), JSON.stringify(Array.from({ length: 4000 }, (_, i) => (i * 7) % 13)));
    let uploads = 0;
    // The second blob upload never reaches the registry: it is stopped just before.
    proxy.before = async (req) => {
      if (req.method === 'PUT' && req.path.includes('/blobs/uploads/') && ++uploads === 2) await reg.stop({ keepStorage: true });
    };
    const r = await f.kiln(['run']);
    proxy.before = null;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('KILN4045');
    const id = runIdOf(r.stderr);
    expect(r.stderr).toContain(`kiln objects push ${id}`);
    expect(r.stderr).toContain(remote);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const shown = await f.kiln(['runs', 'show', id, '--json']);
    expect((JSON.parse(shown.stdout) as { status: string }).status).toBe('FINISHED');

    reg = await startRegistry('basic', reg);
    proxy.retarget(reg.host);
    expect(await client().tagDigest(`run-${id}`)).toBeNull();
    const retry = await f.kiln(['objects', 'push']);
    expect(retry.code, retry.stderr).toBe(0);
    expect(retry.stderr).toContain(`run ${id}: 7 object(s) in ${remote}:run-${id}`);
    const manifest = JSON.parse((await client().getManifest(`run-${id}`))!.bytes.toString('utf8')) as { layers: Array<{ digest: string; size: number }> };
    expect(manifest.layers).toHaveLength(7);
    expect(manifest.layers.map((l) => l.digest)).toContain(`sha256:${await hashFile(path.join(f.root, 'data/features.json'))}`);
    for (const l of manifest.layers) expect(await client().blobSize(l.digest)).toBe(l.size);
    // Nothing is left to push; a run named again is checked blob by blob (HEAD) and nothing is sent twice.
    const noop = await f.kiln(['objects', 'push']);
    expect(noop.code).toBe(0);
    expect(noop.stderr).toContain('already in');
    const before = proxy.requests.length;
    const again = await f.kiln(['objects', 'push', id]);
    expect(again.stderr).toContain(`run ${id}: 7 object(s) in ${remote}:run-${id}, 0 uploaded, 7 already there`);
    expect(proxy.requests.slice(before).filter((q) => q.method === 'PUT' && q.path.includes('/blobs/'))).toEqual([]);
  });
});
