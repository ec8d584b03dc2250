// An artifact on an OCI registry, made a local folder: every blob streamed and checked against its digest, the folder
// verified as a whole against the config digest (kiln's artifact digest) by verifiedArtifact, and only then moved
// into the cache, where it is found again by that digest. A tampered or truncated blob leaves nothing behind.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { diag, KilnError } from '../diagnostics/diagnostic.ts';
import { OciClient } from '../oci/client.ts';
import { readKilnOciManifest } from '../oci/kiln-artifact.ts';
import { formatOciReference, type OciReference } from '../oci/reference.ts';
import { MANIFEST_FILE } from './manifest.ts';
import { verifiedArtifact } from './verify.ts';

/** Where pulled artifacts are kept: KILN_CACHE_DIR, else $XDG_CACHE_HOME/kiln, else ~/.cache/kiln; then oci/. */
export function ociCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.KILN_CACHE_DIR || path.join(env.XDG_CACHE_HOME || path.join(env.HOME || os.homedir(), '.cache'), 'kiln');
  return path.join(base, 'oci');
}

export interface PulledArtifact {
  dir: string;
  /** kiln's artifact digest (sha256 hex of manifest.json), which the loader verifies the folder against. */
  digest: string;
  /** The OCI manifest digest the reference resolved to. */
  manifestDigest: string;
}

/** Pulls `ref` (by tag or digest) into the cache unless it is there; the folder returned is verified. */
export async function pullArtifact(ref: OciReference, cacheDir = ociCacheDir()): Promise<PulledArtifact> {
  const client = new OciClient(ref);
  const text = formatOciReference(ref);
  const reference = ref.digest ?? ref.tag ?? 'latest';
  const got = await client.getManifest(reference);
  if (!got) {
    const tags = await client.listTags();
    throw new KilnError(diag('KILN7057', { ref: text, repository: ref.repository, registry: ref.registry, what: ref.digest ? 'manifest' : 'tag', name: reference, available: tags.join(', ') || '(none: nothing published yet)' }));
  }
  // Asked by digest, the manifest must be those bytes: that pins every blob digest below it.
  if (ref.digest && got.digest !== ref.digest) throw new KilnError(diag('KILN7053', { registry: ref.registry, ref: text, digest: ref.digest, problem: `the manifest served hashes to ${got.digest.slice(0, 19)}…` }));
  const manifest = readKilnOciManifest(got.bytes, text);
  const digest = manifest.config.digest.slice('sha256:'.length);
  const dir = path.join(cacheDir, `sha256-${digest}`);
  if (fs.existsSync(path.join(dir, MANIFEST_FILE))) {
    await verifiedArtifact(dir, { digest });
    return { dir, digest, manifestDigest: got.digest };
  }
  await fs.promises.mkdir(cacheDir, { recursive: true });
  const staging = path.join(cacheDir, `.pulling-${randomBytes(6).toString('hex')}`);
  try {
    await fs.promises.mkdir(staging);
    await client.pullBlob(manifest.config.digest, manifest.config.size, path.join(staging, MANIFEST_FILE), text);
    for (const layer of manifest.layers) {
      const rel = layer.annotations!['org.opencontainers.image.title'];
      const file = path.join(staging, ...rel.split('/'));
      await fs.promises.mkdir(path.dirname(file), { recursive: true });
      await client.pullBlob(layer.digest, layer.size, file, text);
    }
    await verifiedArtifact(staging, { digest });
    try {
      await fs.promises.rename(staging, dir);
    } catch (e) {
      // Another pull of the same artifact finished first: its folder is the same verified content.
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
    }
  } finally {
    await fs.promises.rm(staging, { recursive: true, force: true });
  }
  return { dir, digest, manifestDigest: got.digest };
}
