// kiln publish, kiln registry, kiln predict and kiln serve with publish.target on a real OCI registry (Distribution
// 2.8 behind htpasswd basic auth), on the scorer fixture in real git repositories. Two "machines" share only the
// registry: B, with an empty .kiln, reads production from the registry to gate its publish and predicts with what it
// pulls, bit for bit as training computed.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OciClient } from '../../src/oci/client.ts';
import { spawnSync } from 'node:child_process';
import { kiln as kilnAsync, startKiln, until } from '../e2e/kiln-process.ts';
import { startRegistry, type TestRegistry } from '../helpers/oci-registry.ts';
import { commitAll, gitInit, kiln, kilnHere, repoRoot, tempDir } from './support.ts';

let reg: TestRegistry;
let root: string;
let machineB: string;
/** Input and output files of predict, outside the repositories (so that they stay clean for publish). */
let io: string;
const saved: Record<string, string | undefined> = {};
const env = (name: string, value: string) => {
  if (!(name in saved)) saved[name] = process.env[name];
  process.env[name] = value;
};
const registryClient = () => new OciClient({ registry: reg.host, repository: 'acme/scorer' }, { credential: { username: reg.user, password: reg.password, source: 'test' } });

/** `kiln <args>` as a child process with `extra` over this process's environment. */
function kilnWith(extra: Record<string, string>, args: string[], cwd: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...extra };
  for (const k of ['FORCE_COLOR', 'VITEST', 'VITEST_WORKER_ID', 'VITEST_POOL_ID']) delete env[k];
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'kiln.js'), ...args], { cwd, env, encoding: 'utf8', timeout: 90_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * A proxy in front of the registry on another loopback port: `handle` forwards a request (or answers 'drop', which
 * cuts the connection as a registry that died would); every request line is kept in `requests`.
 */
async function registryProxy(handle: (req: http.IncomingMessage, forward: () => Promise<Response>) => Promise<Response | 'drop'>) {
  const upstream = `http://${reg.host}`;
  const requests: string[] = [];
  const proxy = http.createServer(async (req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers[k] = v;
    const body = chunks.length ? Buffer.concat(chunks) : undefined;
    const forward = () => fetch(`${upstream}${req.url}`, { method: req.method, headers, ...(body && req.method !== 'GET' && req.method !== 'HEAD' ? { body } : {}), redirect: 'manual' });
    const answer = await handle(req, forward);
    if (answer === 'drop') {
      req.socket.destroy();
      return;
    }
    const out: Record<string, string> = {};
    answer.headers.forEach((v, k) => {
      if (k !== 'content-length' && k !== 'transfer-encoding' && k !== 'connection') out[k] = k === 'location' ? v.replace(upstream, `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`) : v;
    });
    res.writeHead(answer.status, out).end(req.method === 'HEAD' ? undefined : Buffer.from(await answer.arrayBuffer()));
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  return { host: `127.0.0.1:${(proxy.address() as net.AddressInfo).port}`, requests, close: () => new Promise<void>((r) => proxy.close(() => r())) };
}

/** A machine whose kiln.yaml publishes through `host` (committed), with a finished run at HEAD. */
async function machineThrough(host: string): Promise<string> {
  const dir = cloneWithoutStore(root);
  const yaml = path.join(dir, 'kiln.yaml');
  fs.writeFileSync(yaml, fs.readFileSync(yaml, 'utf8').replace(reg.host, host));
  await commitAll(dir, `publish through ${host}`);
  const run = await kilnAsync(['run'], dir);
  expect(run.code, run.stderr).toBe(0);
  return dir;
}

/** A copy of the repository without its run store: another machine that cloned it. */
function cloneWithoutStore(from: string): string {
  const dir = tempDir('kiln-machine-');
  fs.cpSync(from, dir, { recursive: true, filter: (src) => path.basename(src) !== '.kiln' && path.basename(src) !== 'dist' });
  return dir;
}

function parityOf(project: string): Array<{ input: unknown; output: unknown }> {
  const dir = path.join(project, '.kiln/artifacts/scorer');
  const run = fs.readdirSync(dir).find((d) => fs.existsSync(path.join(dir, d, 'parity.jsonl')))!;
  return fs.readFileSync(path.join(dir, run, 'parity.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { input: unknown; output: unknown });
}

beforeAll(async () => {
  reg = await startRegistry('basic');
  env('KILN_REGISTRY_USERNAME', reg.user);
  env('KILN_REGISTRY_PASSWORD', reg.password);
  env('KILN_CACHE_DIR', tempDir('kiln-cache-'));
  root = tempDir('kiln-oci-publish-');
  fs.cpSync(path.join(repoRoot, 'test/fixtures/projects/scorer'), root, { recursive: true });
  fs.writeFileSync(path.join(root, '.gitignore'), '.kiln/\ndata/\n');
  const pipeline = path.join(root, 'pipelines/score/pipeline.yaml');
  fs.writeFileSync(pipeline, `${fs.readFileSync(pipeline, 'utf8')}    better_than: production\n`);
  fs.appendFileSync(path.join(root, 'kiln.yaml'), `publish:\n  target: oci://${reg.host}/acme\n`);
  expect((await kilnHere(['compile', '--no-typecheck'], root)).code).toBe(0);
  await gitInit(root);
  await commitAll(root, 'scorer published to an OCI registry');
  const run = kiln(['run'], root);
  expect(run.code, run.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await reg?.stop();
});

describe('kiln publish to oci://', () => {
  it('pushes v1 as an OCI artifact (kiln artifactType, manifest.json as config, a layer per file, annotations) and moves production', async () => {
    const dry = await kilnHere(['publish', '--dry-run'], root);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('would publish scorer v1');
    expect(dry.stdout).toContain('scorer@production: (unset) → v1 (not moved: --dry-run)');
    expect(await registryClient().listTags()).toEqual([]);
    const r = await kilnHere(['publish', '--json'], root);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { version: number; artifact: string; alreadyPublished: boolean; previous: number | null; run: string };
    expect(out).toMatchObject({ model: 'scorer', version: 1, alias: 'production', previous: null, alreadyPublished: false, aliasMoved: true });
    expect(out.artifact).toMatch(new RegExp(`^oci://${reg.host.replace(/\./g, '\\.')}/acme/scorer:v1@sha256:[0-9a-f]{64}$`));
    const client = registryClient();
    expect((await client.listTags()).sort()).toEqual(['production', 'v1']);
    const m = JSON.parse((await client.getManifest('v1'))!.bytes.toString()) as { artifactType: string; config: { mediaType: string; digest: string }; layers: Array<{ mediaType: string; annotations: Record<string, string> }>; annotations: Record<string, string> };
    expect(m.artifactType).toBe('application/vnd.kiln.artifact.v1');
    expect(m.config.mediaType).toBe('application/vnd.kiln.artifact.manifest.v1+json');
    const local = JSON.parse(fs.readFileSync(path.join(root, '.kiln/artifacts/scorer', out.run, 'manifest.json'), 'utf8')) as { files: Record<string, string> };
    expect(m.layers.map((l) => l.annotations['org.opencontainers.image.title']).sort()).toEqual(Object.keys(local.files).sort());
    expect(m.annotations).toMatchObject({ 'org.opencontainers.image.version': 'v1', 'dev.kiln.model': 'scorer', 'dev.kiln.run-id': out.run, 'dev.kiln.digest': m.config.digest.slice(7) });
    expect(JSON.parse(m.annotations['dev.kiln.metrics'])).toMatchObject({ accuracy: 0.9 });
    expect(await client.tagDigest('production')).toBe(await client.tagDigest('v1'));

    const again = await kilnHere(['publish'], root);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`is already published as scorer v1 (oci://${reg.host}/acme/scorer:v1@sha256:`);
    expect(again.stdout).toContain('nothing to do');
    expect((await client.listTags()).sort()).toEqual(['production', 'v1']);
  });

  it('on machine B (empty .kiln), predicts scorer@production with what it pulls, bit-identical to the parity records', async () => {
    machineB = cloneWithoutStore(root);
    io = tempDir('kiln-io-');
    const parity = parityOf(root);
    fs.writeFileSync(path.join(io, 'parity-inputs.jsonl'), parity.map((p) => JSON.stringify(p.input)).join('\n') + '\n');
    const r = kiln(['predict', 'scorer@production', '--input', path.join(io, 'parity-inputs.jsonl'), '--output', path.join(io, 'out.jsonl')], machineB);
    expect(r.code, r.stderr).toBe(0);
    const lines = fs.readFileSync(path.join(io, 'out.jsonl'), 'utf8').split('\n').filter(Boolean);
    expect(lines).toEqual(parity.map((p) => JSON.stringify(p.output)));
    expect(fs.existsSync(path.join(machineB, '.kiln'))).toBe(false);
    expect(fs.readdirSync(process.env.KILN_CACHE_DIR!, { recursive: true }).some((f) => String(f).endsWith('manifest.json'))).toBe(true);
  });

  it('on machine B, publishes v2 of a new run gated against production (v1) as the registry records it', async () => {
    const run = kiln(['run'], machineB);
    expect(run.code, run.stderr).toBe(0);
    const r = await kilnHere(['publish'], machineB);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('gate: accuracy 0.9 >= 0.5; accuracy 0.9 >= 0.9 of production (v1)');
    expect(r.stdout).toContain('scorer@production: v1 → v2');
  });

  it('kiln registry list/show/alias/rollback read and move the tags of the registry', async () => {
    const list = await kilnHere(['registry', 'list'], root);
    expect(list.stdout).toBe('MODEL   LATEST  VERSIONS  ALIASES\nscorer  v2      2         production→v2\n');
    const show = await kilnHere(['registry', 'show', 'scorer'], machineB);
    expect(show.stdout).toMatch(new RegExp(`^scorer: 2 version\\(s\\); aliases: production→v2\\n\\nVERSION +ALIASES +CREATED +COMMIT +RUN +ARTIFACT\\nv2 +production +\\S+ \\S+ +[0-9a-f]{7} +\\w+ +oci://${reg.host.replace(/\./g, '\\.')}/acme/scorer:v2\\nv1 +- `));
    expect((await kilnHere(['registry', 'alias', 'scorer', 'staging', 'v1'], root)).stdout).toBe(`moved scorer@staging: (unset) → v1 (oci://${reg.host}/acme/scorer:v1)\n`);
    const back = await kilnHere(['registry', 'rollback', 'scorer', '--json'], root);
    expect(JSON.parse(back.stdout)).toEqual({ model: 'scorer', alias: 'production', previous: 2, version: 1, artifact: `oci://${reg.host}/acme/scorer:v1` });
    const again = await kilnHere(['registry', 'rollback', 'scorer'], root);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`KILN7014: cannot roll back scorer@production: v1 is the first version in oci://${reg.host}/acme/scorer`);
    expect((await kilnHere(['registry', 'rollback', 'scorer', '--to', '2'], root)).stdout).toBe(`rolled back scorer@production: v1 → v2 (oci://${reg.host}/acme/scorer:v2)\n`);
    const missing = await kilnHere(['registry', 'alias', 'scorer', 'staging', 'v9'], root);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`KILN7057: oci://${reg.host}/acme/scorer: the repository acme/scorer on ${reg.host} has no version 'v9'`);
  });

  it('kiln ui shows the models of the OCI target: versions and aliases from its tags, run and digest from the annotations', async () => {
    const { answer } = await import('../../src/ui/api.ts');
    const a = await answer({ root, stores: () => null }, '/api/models', new URLSearchParams());
    expect(a.status).toBe(200);
    const json = (a as { json: { registry: string; models: Array<{ name: string; aliases: Record<string, number>; aliasHistory: object; versions: Array<{ version: number; artifactPath: string; artifactSha256: string; runId: string | null }> }> } }).json;
    expect(json.registry).toBe(`oci://${reg.host}/acme`);
    expect(json.models.map((m) => m.name)).toEqual(['scorer']);
    const [scorer] = json.models;
    // As the registry test above left it: production back on v2, staging on v1.
    expect(scorer.aliases).toEqual({ production: 2, staging: 1 });
    expect(scorer.versions.map((v) => [v.version, v.artifactPath])).toEqual([
      [2, `oci://${reg.host}/acme/scorer:v2`],
      [1, `oci://${reg.host}/acme/scorer:v1`],
    ]);
    for (const v of scorer.versions) {
      expect(v.artifactSha256).toMatch(/^[0-9a-f]{64}$/);
      expect(v.runId).toMatch(/^\w+$/);
    }
    expect(scorer.aliasHistory).toEqual({});
  });

  it('kiln serve oci://…:production answers as training computed', async () => {
    const parity = parityOf(root);
    const server = startKiln(['serve', `oci://${reg.host}/acme/scorer:production`, '--port', '0', '--workers', '1'], machineB);
    try {
      await until(() => /on (http:\/\/\S+)/.test(server.stderr()) || server.proc.exitCode !== null, 'the server to listen');
      const url = /on (http:\/\/\S+)/.exec(server.stderr())?.[1];
      expect(url, server.stderr()).toBeDefined();
      const res = await fetch(`${url}/invocations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: parity.map((p) => p.input) }) });
      expect(res.status).toBe(200);
      expect(JSON.stringify(((await res.json()) as { predictions: unknown[] }).predictions)).toBe(JSON.stringify(parity.map((p) => p.output)));
    } finally {
      server.proc.kill('SIGTERM');
      await server.exited;
    }
  });

  it('predict oci://…@sha256:… by manifest digest; a tag that does not exist is KILN7057; a foreign manifest is KILN7054', async () => {
    const digest = await registryClient().tagDigest('v1');
    fs.writeFileSync(path.join(io, 'one.jsonl'), JSON.stringify(parityOf(root)[0].input) + '\n');
    const byDigest = kiln(['predict', `oci://${reg.host}/acme/scorer@${digest}`, '--input', path.join(io, 'one.jsonl')], machineB);
    expect(byDigest.code, byDigest.stderr).toBe(0);
    expect(byDigest.stdout.trim()).toBe(JSON.stringify(parityOf(root)[0].output));

    const none = kiln(['predict', 'scorer@canary', '--input', path.join(io, 'one.jsonl')], machineB);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`KILN7057: oci://${reg.host}/acme/scorer:canary: the repository acme/scorer on ${reg.host} has no tag 'canary'`);

    const client = new OciClient({ registry: reg.host, repository: 'acme/other' }, { push: true, credential: { username: reg.user, password: reg.password, source: 'test' } });
    const cfg = path.join(io, 'cfg.json');
    fs.writeFileSync(cfg, '{}');
    const cfgDigest = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';
    await client.pushBlob(cfg, cfgDigest, 2);
    await client.putManifest('v1', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: cfgDigest, size: 2 }, layers: [] })));
    const foreign = kiln(['predict', `oci://${reg.host}/acme/other:v1`, '--input', path.join(io, 'one.jsonl')], machineB);
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toContain(`KILN7054: oci://${reg.host}/acme/other:v1 is not a kiln artifact: its artifactType is "application/vnd.oci.image.config.v1+json"`);
  });

  it('refuses a tampered blob on the registry (KILN7053) and caches nothing of it', async () => {
    const cache = tempDir('kiln-cache-tamper-');
    const m = JSON.parse((await registryClient().getManifest('v2'))!.bytes.toString()) as { layers: Array<{ digest: string; annotations: Record<string, string> }> };
    const layer = m.layers.find((l) => l.annotations['org.opencontainers.image.title'] === 'state/stats.json') ?? m.layers[0];
    const stored = reg.blobFile(layer.digest);
    const original = fs.readFileSync(stored);
    const tampered = Buffer.from(original);
    tampered[tampered.length - 1] ^= 0x01;
    fs.writeFileSync(stored, tampered);
    try {
      const r = kilnWith({ KILN_CACHE_DIR: cache }, ['predict', 'scorer@v2', '--input', path.join(io, 'one.jsonl')], machineB);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`KILN7053: refused blob ${layer.digest} of oci://${reg.host}/acme/scorer:v2 from ${reg.host}: its content hashes to`);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(fs.readdirSync(path.join(cache, 'oci'))).toEqual([]);
    } finally {
      fs.writeFileSync(stored, original);
    }
  });

  it('wrong credentials: exit 1 naming the registry and the variables to set, never the secret', () => {
    const r = kilnWith({ KILN_REGISTRY_PASSWORD: 'wrong-secret-123', KILN_CACHE_DIR: tempDir('kiln-cache-') }, ['predict', 'scorer@production', '--input', path.join(io, 'one.jsonl')], machineB);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`KILN7051: the OCI registry ${reg.host} refused reading manifest production: it refused the credentials from KILN_REGISTRY_USERNAME/KILN_REGISTRY_PASSWORD`);
    expect(r.stderr).toContain('set KILN_REGISTRY_USERNAME and KILN_REGISTRY_PASSWORD');
    expect(r.stderr + r.stdout).not.toContain('wrong-secret-123');
    expect(r.stderr + r.stdout).not.toContain(reg.password);
  });

  it('two machines publishing at once get two versions, none lost (push by digest, check-before-tag, check-after-tag)', async () => {
    const [c, d] = [cloneWithoutStore(root), cloneWithoutStore(root)];
    const runs = await Promise.all([c, d].map((m) => kilnAsync(['run'], m)));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const published = await Promise.all([c, d].map((m) => kilnAsync(['publish', '--json'], m)));
    for (const p of published) expect(p.code, p.stderr).toBe(0);
    const results = published.map((p) => JSON.parse(p.stdout) as { version: number; run: string });
    expect(results.map((r) => r.version).sort()).toEqual([3, 4]);
    const client = registryClient();
    for (const r of results) {
      const m = JSON.parse((await client.getManifest(`v${r.version}`))!.bytes.toString()) as { annotations: Record<string, string> };
      expect(m.annotations['dev.kiln.run-id']).toBe(r.run);
    }
  }, 120_000);

  it('gives up with KILN7056 when another publisher keeps taking the version tag, leaving no tag of its own', async () => {
    // The proxy plays a publisher that always wins: after each tag write of a version, it writes v1's manifest there.
    const v1 = (await registryClient().getManifest('v1'))!.bytes;
    const proxy = await registryProxy(async (req, forward) => {
      const answer = await forward();
      if (req.method === 'PUT' && /\/manifests\/v\d+$/.test(req.url ?? '') && answer.status === 201) {
        await fetch(`http://${reg.host}${req.url}`, { method: 'PUT', headers: { authorization: req.headers.authorization ?? '', 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, body: v1 });
      }
      return answer;
    });
    try {
      const e = await machineThrough(proxy.host);
      const tagsBefore = new Set(await registryClient().listTags());
      const r = await kilnAsync(['publish'], e);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain("KILN7056: cannot publish 'scorer': another publish took the version tag");
      expect(r.stderr).toContain('5 times in a row');
      const client = registryClient();
      for (const t of (await client.listTags()).filter((t) => !tagsBefore.has(t))) {
        expect(await client.tagDigest(t), `${t} points at v1, as the other publisher left it`).toBe(await client.tagDigest('v1'));
      }
    } finally {
      await proxy.close();
    }
  }, 120_000);

  it('a registry lost during publish (after the blobs, before the tag) is KILN7050 naming it; nothing is tagged, and the retry publishes', async () => {
    let down = true;
    const proxy = await registryProxy(async (req, forward) => (down && req.method === 'PUT' && /\/manifests\//.test(req.url ?? '') ? 'drop' : forward()));
    try {
      const f = await machineThrough(proxy.host);
      const tagsBefore = (await registryClient().listTags()).sort();
      const r = await kilnAsync(['publish'], f);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(`KILN7050: cannot reach the OCI registry ${proxy.host} while writing manifest sha256:`);
      expect(r.stderr).toContain('run the same command again');
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect((await registryClient().listTags()).sort()).toEqual(tagsBefore);
      down = false;
      const before = proxy.requests.length;
      const retry = await kilnAsync(['publish', '--json'], f);
      expect(retry.code, retry.stderr).toBe(0);
      const version = (JSON.parse(retry.stdout) as { version: number }).version;
      expect(await registryClient().tagDigest(`v${version}`)).toBe(await registryClient().tagDigest('production'));
      // The blobs went up the first time: the retry only checked them (HEAD) before writing the manifest and tags.
      expect(proxy.requests.slice(0, before).some((x) => x.startsWith('POST '))).toBe(true);
      expect(proxy.requests.slice(before).filter((x) => x.startsWith('POST ') || x.startsWith('PATCH '))).toEqual([]);
    } finally {
      await proxy.close();
    }
  }, 120_000);
});
