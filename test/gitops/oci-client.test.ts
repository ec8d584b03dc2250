// The OCI distribution client against the real registry (Distribution 2.8): blobs up (monolithic and chunked, skipped
// when present) and down (verified while streaming: a tampered or truncated blob is refused and leaves no file),
// manifests and tags, and auth: anonymous, htpasswd basic, the bearer-token challenge, wrong or missing credentials.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OciClient } from '../../src/oci/client.ts';
import { credentialFor } from '../../src/oci/credentials.ts';
import { modelRepository, parseOciReference, registryBaseUrl } from '../../src/oci/reference.ts';
import { isKilnError } from '../../src/diagnostics/index.ts';
import { startRegistry, type TestRegistry } from '../helpers/oci-registry.ts';
import { tempDir } from './support.ts';

const digestOf = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string; hint: string }> {
  try {
    await p;
  } catch (e) {
    if (isKilnError(e)) return { code: e.diagnostics[0].code, message: e.diagnostics[0].message, hint: e.diagnostics[0].hint ?? '' };
    throw e;
  }
  throw new Error('expected a KilnError');
}

function blobFile(dir: string, bytes: Buffer): { file: string; digest: string; size: number } {
  const file = path.join(dir, randomBytes(4).toString('hex'));
  fs.writeFileSync(file, bytes);
  return { file, digest: digestOf(bytes), size: bytes.length };
}

describe('oci:// references', () => {
  it.each([
    ['oci://ghcr.io/acme/spam-filter', { registry: 'ghcr.io', repository: 'acme/spam-filter' }],
    ['oci://127.0.0.1:5000/acme/spam-filter:production', { registry: '127.0.0.1:5000', repository: 'acme/spam-filter', tag: 'production' }],
    [`oci://localhost:5000/a/b@sha256:${'a'.repeat(64)}`, { registry: 'localhost:5000', repository: 'a/b', digest: `sha256:${'a'.repeat(64)}` }],
  ])('reads %s', (text, want) => {
    expect(parseOciReference(text)).toEqual(want);
  });

  it.each([
    ['oci://ghcr.io', 'names no repository'],
    ['oci://ghcr.io/Acme/x', "'Acme' is not lowercase"],
    ['oci://ghcr.io/a/x@sha256:12', 'is not a digest'],
    ['oci://ghcr.io/a/x:bad tag', 'is not a tag'],
  ])('refuses %s with KILN7055', async (text, why) => {
    const f = await failure(Promise.resolve().then(() => parseOciReference(text)));
    expect(f.code).toBe('KILN7055');
    expect(f.message).toContain(why);
  });
});

describe('the repository of a model under a publish target', () => {
  it.each([
    ['oci://ghcr.io/acme', 'spam-filter', 'acme/spam-filter'],
    ['oci://ghcr.io/acme/spam-filter', 'spam-filter', 'acme/spam-filter'],
    ['oci://127.0.0.1:5000/team/models', 'Scorer', 'team/models/scorer'],
  ])('%s holds %s in %s', (target, model, repository) => {
    expect(modelRepository(target, model).repository).toBe(repository);
  });
});

describe('the address of a registry', () => {
  it.each([
    ['127.0.0.1:5000', 'http://127.0.0.1:5000'],
    ['localhost:5000', 'http://localhost:5000'],
    ['[::1]:5000', 'http://[::1]:5000'],
    ['ghcr.io', 'https://ghcr.io'],
    ['docker.io', 'https://registry-1.docker.io'],
    ['registry.example:8443', 'https://registry.example:8443'],
  ])('%s is spoken to at %s', (registry, url) => {
    expect(registryBaseUrl(registry)).toBe(url);
  });
});

describe('credentials', () => {
  it('come from KILN_REGISTRY_USERNAME/PASSWORD, GITHUB_TOKEN for ghcr.io, then ~/.docker/config.json auths', () => {
    const home = tempDir('kiln-home-');
    fs.mkdirSync(path.join(home, '.docker'));
    fs.writeFileSync(path.join(home, '.docker', 'config.json'), JSON.stringify({ auths: { 'reg.example:5000': { auth: Buffer.from('alice:s3cret:with-colon').toString('base64') } } }));
    expect(credentialFor('reg.example:5000', { HOME: home })).toEqual({ username: 'alice', password: 's3cret:with-colon', source: path.join(home, '.docker', 'config.json') });
    expect(credentialFor('other.example', { HOME: home })).toBeNull();
    expect(credentialFor('reg.example:5000', { HOME: home, KILN_REGISTRY_USERNAME: 'bob', KILN_REGISTRY_PASSWORD: 'pw' })?.source).toBe('KILN_REGISTRY_USERNAME/KILN_REGISTRY_PASSWORD');
    expect(credentialFor('ghcr.io', { HOME: home, GITHUB_TOKEN: 'ghs_x', GITHUB_ACTOR: 'octo' })).toEqual({ username: 'octo', password: 'ghs_x', source: 'GITHUB_TOKEN' });
  });
});

describe('against an anonymous registry', () => {
  let reg: TestRegistry;
  let dir: string;
  beforeAll(async () => {
    reg = await startRegistry('none');
    dir = tempDir('kiln-blobs-');
  });
  afterAll(async () => reg?.stop());

  it('pushes blobs monolithically and in chunks, skips those present, and pulls them verified', async () => {
    const client = new OciClient({ registry: reg.host, repository: 'acme/blobs' }, { push: true, chunkBytes: 64 * 1024, credential: null });
    const small = blobFile(dir, randomBytes(1000));
    const big = blobFile(dir, randomBytes(200 * 1024 + 17));
    expect(await client.pushBlob(small.file, small.digest, small.size)).toBe(true);
    expect(await client.pushBlob(big.file, big.digest, big.size)).toBe(true);
    expect(await client.pushBlob(big.file, big.digest, big.size)).toBe(false);
    const out = path.join(dir, 'pulled');
    await client.pullBlob(big.digest, big.size, out, 'test');
    expect(fs.readFileSync(out).equals(fs.readFileSync(big.file))).toBe(true);
  });

  it('refuses a tampered and a truncated blob with KILN7053, leaving no file', async () => {
    const client = new OciClient({ registry: reg.host, repository: 'acme/blobs' }, { push: true, credential: null });
    const b = blobFile(dir, randomBytes(5000));
    await client.pushBlob(b.file, b.digest, b.size);
    const stored = reg.blobFile(b.digest);
    const bytes = fs.readFileSync(stored);
    bytes[100] ^= 0xff;
    fs.writeFileSync(stored, bytes);
    const out = path.join(dir, 'tampered');
    let f = await failure(client.pullBlob(b.digest, b.size, out, 'oci://x/y:v1'));
    expect(f.code).toBe('KILN7053');
    expect(f.message).toContain('content hashes to');
    expect(fs.existsSync(out)).toBe(false);
    fs.writeFileSync(stored, bytes.subarray(0, 4000));
    f = await failure(client.pullBlob(b.digest, b.size, out, 'oci://x/y:v1'));
    expect(f.code).toBe('KILN7053');
    // Distribution answers with the length it stored; a registry that cut the stream short gets the same answer.
    expect(f.message).toMatch(/truncated|hashes to/);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('puts and reads manifests and tags; a manifest naming a missing blob is the registry\'s KILN7052', async () => {
    const client = new OciClient({ registry: reg.host, repository: 'acme/manifests' }, { push: true, credential: null });
    const config = blobFile(dir, Buffer.from('{}'));
    await client.pushBlob(config.file, config.digest, config.size);
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.example+json', digest: config.digest, size: config.size }, layers: [] }));
    const d = await client.putManifest('t1', manifest);
    expect(await client.tagDigest('t1')).toBe(d);
    expect((await client.getManifest('t1'))?.bytes.equals(manifest)).toBe(true);
    expect(await client.getManifest('nope')).toBeNull();
    expect(await client.listTags()).toEqual(['t1']);
    expect(await new OciClient({ registry: reg.host, repository: 'acme/none' }, { credential: null }).listTags()).toEqual([]);
    const broken = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.example+json', digest: digestOf(Buffer.from('missing')), size: 7 }, layers: [] }));
    const f = await failure(client.putManifest('t2', broken));
    expect(f.code).toBe('KILN7052');
    expect(f.message).toContain(`the OCI registry ${reg.host} answered HTTP 400`);
  });

  it('a connection that breaks in the middle of a blob is KILN7050 naming the registry, and leaves no file', async () => {
    // A registry that dies mid-answer: headers and the first bytes of the blob, then the connection cut.
    const dying = http.createServer((req, res) => {
      res.writeHead(200, { 'content-length': '100000', 'content-type': 'application/octet-stream' });
      res.write(Buffer.alloc(1000));
      setTimeout(() => req.socket.destroy(), 20);
    });
    await new Promise<void>((r) => dying.listen(0, '127.0.0.1', r));
    try {
      const host = `127.0.0.1:${(dying.address() as net.AddressInfo).port}`;
      const out = path.join(dir, 'broken');
      const f = await failure(new OciClient({ registry: host, repository: 'a/b' }, { credential: null }).pullBlob(`sha256:${'0'.repeat(64)}`, 100000, out, 'test'));
      expect(f.code).toBe('KILN7050');
      expect(f.message).toContain(`cannot reach the OCI registry ${host} while downloading blob 000000000000: the connection broke`);
      expect(fs.existsSync(out)).toBe(false);
    } finally {
      await new Promise((r) => dying.close(r));
    }
  });

  it('names the registry and what to retry when it cannot be reached (KILN7050)', async () => {
    const f = await failure(new OciClient({ registry: '127.0.0.1:9', repository: 'a/b' }, { credential: null }).listTags());
    expect(f.code).toBe('KILN7050');
    expect(f.message).toContain('cannot reach the OCI registry 127.0.0.1:9 while listing tags');
    expect(f.hint).toContain('run the same command again');
  });
});

describe.each(['basic', 'token'] as const)('against a registry with %s auth', (auth) => {
  let reg: TestRegistry;
  let dir: string;
  beforeAll(async () => {
    reg = await startRegistry(auth);
    dir = tempDir('kiln-blobs-');
  });
  afterAll(async () => reg?.stop());

  it('pushes and pulls with the right credentials', async () => {
    const client = new OciClient({ registry: reg.host, repository: 'acme/private' }, { push: true, credential: { username: reg.user, password: reg.password, source: 'test' } });
    const b = blobFile(dir, randomBytes(3000));
    expect(await client.pushBlob(b.file, b.digest, b.size)).toBe(true);
    const reader = new OciClient({ registry: reg.host, repository: 'acme/private' }, { credential: { username: reg.user, password: reg.password, source: 'test' } });
    const out = path.join(dir, `pulled-${auth}`);
    await reader.pullBlob(b.digest, b.size, out, 'test');
    expect(fs.readFileSync(out).equals(fs.readFileSync(b.file))).toBe(true);
  });

  it('refuses wrong and missing credentials with KILN7051, naming the registry and the variables, never the secret', async () => {
    const wrong = { username: reg.user, password: 'not-the-password-42', source: 'KILN_REGISTRY_USERNAME/KILN_REGISTRY_PASSWORD' };
    let f = await failure(new OciClient({ registry: reg.host, repository: 'acme/private' }, { credential: wrong }).listTags());
    expect(f.code).toBe('KILN7051');
    expect(f.message).toContain(`the OCI registry ${reg.host} refused listing tags`);
    expect(f.message).toContain('KILN_REGISTRY_USERNAME/KILN_REGISTRY_PASSWORD');
    expect(f.hint).toContain('set KILN_REGISTRY_USERNAME and KILN_REGISTRY_PASSWORD');
    expect(`${f.message} ${f.hint}`).not.toContain('not-the-password-42');
    f = await failure(new OciClient({ registry: reg.host, repository: 'acme/private' }, { credential: null }).listTags());
    expect(f.code).toBe('KILN7051');
    expect(f.message).toContain(auth === 'basic' ? 'it asks for credentials and none are set' : 'refused an anonymous token');
  });
});
