// A small client of the OCI distribution API (https://github.com/opencontainers/distribution-spec) on Node's fetch:
// blobs (HEAD to skip what is there, monolithic or chunked upload, verified streaming download), manifests and tags,
// with the registries' auth: anonymous, basic, and the bearer-token challenge (WWW-Authenticate: Bearer realm=…).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { diag, KilnError } from '../diagnostics/diagnostic.ts';
import { credentialAdvice, credentialFor, type RegistryCredential } from './credentials.ts';
import { registryBaseUrl, type OciReference } from './reference.ts';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
/** Blobs up to this size go in one PUT; bigger ones in PATCH chunks of this size (memory stays bounded either way). */
export const CHUNK_BYTES = 16 * 1024 * 1024;

export interface ClientOptions {
  /** Push as well as pull (the token scope asked for). */
  push?: boolean;
  /** Defaults to credentialFor(registry) from the environment or the Docker config. */
  credential?: RegistryCredential | null;
  /** Upload chunk size (CHUNK_BYTES). */
  chunkBytes?: number;
}

interface Send {
  /** What the request does, in words, for messages. */
  what: string;
  headers?: Record<string, string>;
  /** A function, so that the body can be sent again after an auth challenge. */
  body?: () => Buffer;
  /** Statuses the caller handles; any other is KILN7052. */
  ok: number[];
}

/** The parameters of a WWW-Authenticate header: scheme and key="value" pairs. */
export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const m = /^\s*(\S+)\s*(.*)$/.exec(header) ?? ['', '', ''];
  const params: Record<string, string> = {};
  for (const p of m[2].matchAll(/([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) params[p[1].toLowerCase()] = (p[2] ?? p[3]).replace(/\\(.)/g, '$1');
  return { scheme: m[1].toLowerCase(), params };
}

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export class OciClient {
  readonly registry: string;
  readonly repository: string;
  private readonly base: string;
  private readonly push: boolean;
  private readonly credential: RegistryCredential | null;
  private readonly chunkBytes: number;
  private authorization: string | null = null;

  constructor(ref: Pick<OciReference, 'registry' | 'repository'>, opts: ClientOptions = {}) {
    this.registry = ref.registry;
    this.repository = ref.repository;
    this.base = registryBaseUrl(ref.registry);
    this.push = opts.push ?? false;
    this.chunkBytes = opts.chunkBytes ?? CHUNK_BYTES;
    this.credential = opts.credential !== undefined ? opts.credential : credentialFor(ref.registry);
  }

  private url(rel: string): string {
    return new URL(rel, this.base).toString();
  }

  private refused(what: string, reason: string): KilnError {
    return new KilnError(diag('KILN7051', { registry: this.registry, what, reason, advice: credentialAdvice(this.registry) }));
  }

  private async fetchOrExplain(url: string, init: RequestInit, what: string): Promise<Response> {
    try {
      return await fetch(url, init);
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new KilnError(diag('KILN7050', { registry: this.registry, what, reason: cause?.code ?? cause?.message ?? (e as Error).message }));
    }
  }

  /** Answers a 401: basic credentials, or a bearer token from the realm the challenge names. */
  private async authenticate(challenge: string | null, what: string): Promise<void> {
    const { scheme, params } = parseChallenge(challenge ?? '');
    const basic = this.credential ? `Basic ${Buffer.from(`${this.credential.username}:${this.credential.password}`).toString('base64')}` : null;
    if (scheme === 'basic') {
      if (!basic) throw this.refused(what, 'it asks for credentials and none are set');
      this.authorization = basic;
      return;
    }
    if (scheme !== 'bearer' || !params.realm) throw this.refused(what, `it asks for an authentication kiln does not speak (${scheme || 'none named'})`);
    const realm = new URL(params.realm);
    if (params.service) realm.searchParams.set('service', params.service);
    realm.searchParams.set('scope', `repository:${this.repository}:${this.push ? 'pull,push' : 'pull'}`);
    const res = await this.fetchOrExplain(realm.toString(), { headers: basic ? { authorization: basic } : {} }, `${what} (token from ${realm.origin})`);
    if (res.status === 401 || res.status === 403) throw this.refused(what, `its token service ${realm.origin} refused ${this.credential ? `the credentials from ${this.credential.source}` : 'an anonymous token'}`);
    if (!res.ok) throw new KilnError(diag('KILN7052', { registry: this.registry, status: res.status, what: `${what} (token from ${realm.origin})`, detail: (await res.text()).slice(0, 200) }));
    const body = (await res.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new KilnError(diag('KILN7052', { registry: this.registry, status: res.status, what: `${what} (token from ${realm.origin})`, detail: 'the answer holds no token' }));
    this.authorization = `Bearer ${token}`;
  }

  private async send(method: string, rel: string, s: Send): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { ...s.headers, ...(this.authorization ? { authorization: this.authorization } : {}) };
      const body = s.body?.();
      const res = await this.fetchOrExplain(this.url(rel), { method, headers, ...(body ? { body: body as Uint8Array<ArrayBuffer> } : {}) }, s.what);
      if (res.status === 401 && attempt === 0) {
        await res.body?.cancel();
        await this.authenticate(res.headers.get('www-authenticate'), s.what);
        continue;
      }
      if (res.status === 401 || (res.status === 403 && !s.ok.includes(403))) {
        await res.body?.cancel();
        throw this.refused(s.what, this.credential ? `it refused the credentials from ${this.credential.source}` : 'it needs credentials and none are set');
      }
      if (!s.ok.includes(res.status)) {
        const text = await res.text().catch(() => '');
        let detail = text.slice(0, 300);
        try {
          const errors = (JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> }).errors;
          if (errors?.length) detail = errors.map((e) => `${e.code ?? ''} ${e.message ?? ''}`.trim()).join('; ');
        } catch {
          // not JSON: the text as it came
        }
        throw new KilnError(diag('KILN7052', { registry: this.registry, status: res.status, what: s.what, detail: detail || '(no detail)' }));
      }
      return res;
    }
  }

  private repo(rel: string): string {
    return `/v2/${this.repository}/${rel}`;
  }

  async hasBlob(digest: string): Promise<boolean> {
    return (await this.blobSize(digest)) !== null;
  }

  /** The size the registry gives for blob `digest` (HEAD; NaN when it gives none), or null when it has no such blob. */
  async blobSize(digest: string): Promise<number | null> {
    const res = await this.send('HEAD', this.repo(`blobs/${digest}`), { what: `checking blob ${digest.slice(7, 19)}`, ok: [200, 404] });
    if (res.status !== 200) return null;
    const length = res.headers.get('content-length');
    return length !== null && /^\d+$/.test(length) ? Number(length) : NaN;
  }

  /** Uploads `file` as the blob `digest` unless the registry has it (`check`: ask first, the default); returns whether it was sent. */
  /** Uploads a blob from a file, or from bytes in memory (a small object a pack holds has no file of its own). */
  async pushBlob(source: string | Buffer, digest: string, size: number, opts: { check?: boolean } = {}): Promise<boolean> {
    if (opts.check !== false && (await this.hasBlob(digest))) return false;
    const what = `uploading blob ${digest.slice(7, 19)} (${size} bytes)`;
    const start = await this.send('POST', this.repo('blobs/uploads/'), { what, ok: [202] });
    let location = this.locationOf(start, what);
    const fd = typeof source === 'string' ? await fs.promises.open(source, 'r') : null;
    try {
      const read = async (offset: number, length: number) => {
        if (!fd) return (source as Buffer).subarray(offset, offset + length);
        const b = Buffer.alloc(length);
        const { bytesRead } = await fd.read(b, 0, length, offset);
        return b.subarray(0, bytesRead);
      };
      const chunked = size > this.chunkBytes;
      if (chunked) {
        for (let offset = 0; offset < size; offset += this.chunkBytes) {
          const chunk = await read(offset, Math.min(this.chunkBytes, size - offset));
          const res = await this.send('PATCH', location, {
            what,
            headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${offset + chunk.length - 1}`, 'content-length': String(chunk.length) },
            body: () => chunk,
            ok: [202],
          });
          location = this.locationOf(res, what);
        }
      }
      const rest = chunked ? Buffer.alloc(0) : await read(0, size);
      const done = new URL(location, this.base);
      done.searchParams.set('digest', digest);
      await this.send('PUT', done.toString(), { what, headers: { 'content-type': 'application/octet-stream', 'content-length': String(rest.length) }, body: () => rest, ok: [201] });
    } finally {
      await fd?.close();
    }
    return true;
  }

  private locationOf(res: Response, what: string): string {
    const location = res.headers.get('location');
    if (!location) throw new KilnError(diag('KILN7052', { registry: this.registry, status: res.status, what, detail: 'the answer names no upload location' }));
    return new URL(location, this.base).toString();
  }

  /**
   * Streams the blob `digest` into `file`, hashing on the way; KILN7053 (and no file) unless it is exactly `size`
   * bytes with that sha256. Redirects (to a storage service) are followed.
   */
  async pullBlob(digest: string, size: number, file: string, ref: string): Promise<void> {
    const what = `downloading blob ${digest.slice(7, 19)}`;
    const res = await this.send('GET', this.repo(`blobs/${digest}`), { what, ok: [200] });
    const hash = createHash('sha256');
    let bytes = 0;
    // Counted and hashed as it passes; more bytes than the descriptor says stop the download there.
    const check = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        if (bytes > size) return done(new RangeError('longer than its descriptor'));
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>), check, fs.createWriteStream(file, { flags: 'wx' }));
    } catch (e) {
      await fs.promises.rm(file, { force: true });
      if (!(e instanceof RangeError)) throw this.lost(e, what);
    }
    const actual = `sha256:${hash.digest('hex')}`;
    const problem = bytes > size ? `it is longer than its ${size} bytes` : bytes < size ? `it is ${bytes} bytes, not ${size} (truncated)` : actual !== digest ? `its content hashes to ${actual.slice(0, 19)}…` : null;
    if (problem) {
      await fs.promises.rm(file, { force: true });
      throw new KilnError(diag('KILN7053', { registry: this.registry, ref, digest, problem }));
    }
  }

  /** A connection that broke while an answer was read is the registry lost (KILN7050); a local failure stays itself. */
  private lost(e: unknown, what: string): unknown {
    const err = e as { code?: string; name?: string; message?: string; cause?: { code?: string } };
    const network = err.name === 'TypeError' || err.name === 'AbortError' || /^(UND_ERR|ECONNRESET|EPIPE|ETIMEDOUT)/.test(err.cause?.code ?? err.code ?? '');
    return network ? new KilnError(diag('KILN7050', { registry: this.registry, what, reason: `the connection broke (${err.cause?.code ?? err.message ?? err.code})` })) : e;
  }

  /** Reads an answer's body, a broken connection being KILN7050. */
  private async body<T>(what: string, read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (e) {
      throw this.lost(e, what);
    }
  }

  /** Puts a manifest under a tag or its digest; returns its digest. */
  async putManifest(reference: string, bytes: Buffer, mediaType = OCI_MANIFEST): Promise<string> {
    await this.send('PUT', this.repo(`manifests/${reference}`), { what: `writing manifest ${reference}`, headers: { 'content-type': mediaType }, body: () => bytes, ok: [201] });
    return sha256(bytes);
  }

  /** The manifest under a tag or digest, with the digest of its bytes (computed here, not taken from the registry); null when absent. */
  async getManifest(reference: string): Promise<{ bytes: Buffer; digest: string; mediaType: string } | null> {
    const res = await this.send('GET', this.repo(`manifests/${reference}`), { what: `reading manifest ${reference}`, headers: { accept: OCI_MANIFEST }, ok: [200, 404] });
    if (res.status === 404) {
      await res.body?.cancel();
      return null;
    }
    const bytes = Buffer.from(await this.body(`reading manifest ${reference}`, () => res.arrayBuffer()));
    return { bytes, digest: sha256(bytes), mediaType: res.headers.get('content-type') ?? '' };
  }

  /** The digest a tag points at (the registry's word, from HEAD); null when the tag does not exist. */
  async tagDigest(tag: string): Promise<string | null> {
    const res = await this.send('HEAD', this.repo(`manifests/${tag}`), { what: `reading tag ${tag}`, headers: { accept: OCI_MANIFEST }, ok: [200, 404] });
    return res.status === 404 ? null : res.headers.get('docker-content-digest');
  }

  /** Every tag of the repository (following the Link header's pages); none when the repository does not exist yet. */
  async listTags(): Promise<string[]> {
    const tags: string[] = [];
    let next: string | null = this.repo('tags/list?n=1000');
    while (next) {
      const res: Response = await this.send('GET', next, { what: 'listing tags', ok: [200, 404] });
      if (res.status === 404) {
        await res.body?.cancel();
        return tags;
      }
      tags.push(...((await this.body('listing tags', () => res.json() as Promise<{ tags?: string[] | null }>)).tags ?? []));
      const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(res.headers.get('link') ?? '');
      next = link ? link[1] : null;
    }
    return tags;
  }
}
