// What `kiln predict` and `kiln serve` accept as an artifact: a folder, or a registry reference such as
// spam-filter@production or spam-filter@v3 (resolved through the project's model registry: its store, or the OCI
// repository publish.target names), or an oci:// reference (pulled, verified and cached).
import fs from 'node:fs';
import path from 'node:path';
import { diag, KilnError } from '../diagnostics/diagnostic.ts';
import { MANIFEST_FILE } from './manifest.ts';
import { publishTargetOf } from '../config/publish-target.ts';
import { isOciReference, modelRepository, parseOciReference } from '../oci/reference.ts';

const MODEL_REF = /^[A-Za-z0-9][A-Za-z0-9._-]*@[A-Za-z0-9_-]+$/;

/** The store folder kiln.yaml names (`store:`), so that registry references work whatever the project chose. */
async function projectStoreDir(projectRoot: string): Promise<string> {
  const { storeDirOf } = await import('../config/store-dir.ts');
  return storeDirOf(projectRoot);
}

/** A registered version's artifact path is relative to the project root (as `kiln publish` records it) or absolute. */
export async function resolveArtifact(ref: string, projectRoot: string, storeDir?: string): Promise<{ dir: string; version?: number; model?: string; digest?: string }> {
  if (isOciReference(ref)) {
    const { pullArtifact } = await import('./oci-pull.ts');
    const pulled = await pullArtifact(parseOciReference(ref));
    return { dir: pulled.dir, digest: pulled.digest };
  }
  const asPath = path.resolve(projectRoot, ref);
  if (fs.existsSync(path.join(asPath, MANIFEST_FILE))) {
    const digest = await digestFromRegistry(asPath, projectRoot, storeDir);
    return digest ? { dir: asPath, digest } : { dir: asPath };
  }
  if (!MODEL_REF.test(ref)) {
    throw new KilnError(diag('KILN6009', { ref, reason: fs.existsSync(asPath) ? `${asPath} has no ${MANIFEST_FILE}` : 'no such folder, and it is not a model reference', fix: 'Give an artifact folder (.kiln/artifacts/<model>/<run-id>) or a registry reference <model>@<alias> or <model>@v<version>.' }));
  }
  const target = publishTargetOf(projectRoot);
  if (target !== null && isOciReference(target)) return resolveOnRegistry(ref, target);
  const { openTracking, storeExists } = await import('../tracking/index.ts');
  // With the runs in PostgreSQL, versions are published to an OCI target (handled above), never to one machine's store.
  const { runStoreOf } = await import('../config/run-store.ts');
  const location = runStoreOf(projectRoot);
  if (location.kind === 'postgres') throw new KilnError(diag('KILN4036', { store: location.display }));
  const store = path.resolve(projectRoot, storeDir ?? (await projectStoreDir(projectRoot)));
  if (!storeExists(store)) throw new KilnError(diag('KILN6009', { ref, reason: `the project at ${projectRoot} has no run store yet`, fix: 'Run and publish the model first (kiln run, kiln publish), or pass --project.' }));
  const tracking = openTracking(store);
  try {
    const v = await tracking.registry.resolve(ref);
    const dir = path.resolve(projectRoot, v.artifactPath);
    if (!fs.existsSync(path.join(dir, MANIFEST_FILE))) throw new KilnError(diag('KILN6009', { ref, reason: `version ${v.version} points at ${v.artifactPath}, which holds no artifact any more`, fix: 'Publish the model again, or roll the alias back to a version whose artifact still exists.' }));
    return { dir, version: v.version, model: v.model, digest: v.artifactSha256 };
  } finally {
    tracking.close();
  }
}

/**
 * model@alias, model@v3 or model@latest when publish.target is an OCI repository: the tag of that name (latest: the
 * highest v<n>), pulled by the digest it pointed at, so that the folder loaded is the one the tag named.
 */
async function resolveOnRegistry(ref: string, target: string): Promise<{ dir: string; version?: number; model: string; digest: string }> {
  const { parseModelRef } = await import('../tracking/registry.ts');
  const { pullArtifact } = await import('./oci-pull.ts');
  const { OciClient } = await import('../oci/client.ts');
  const { model, selector } = parseModelRef(ref);
  const repo = modelRepository(target, model);
  let tag = selector.kind === 'alias' ? selector.alias : selector.kind === 'version' ? `v${selector.version}` : null;
  if (tag === null) {
    const versions = (await new OciClient(repo).listTags()).map((t) => /^v(\d+)$/.exec(t)).filter((m) => m !== null).map((m) => Number(m[1]));
    tag = versions.length ? `v${Math.max(...versions)}` : 'latest';
  }
  const pulled = await pullArtifact({ ...repo, tag });
  const v = /^v(\d+)$/.exec(tag);
  return { dir: pulled.dir, model, digest: pulled.digest, ...(v ? { version: Number(v[1]) } : {}) };
}

/**
 * For a folder the project's registry published (<publish.target>/<model>/v<N>), the digest it recorded. Folders in a
 * run store are anchored by their run (see anchor.ts); others by nothing.
 */
async function digestFromRegistry(dir: string, projectRoot: string, storeDir?: string): Promise<string | undefined> {
  const store = path.resolve(projectRoot, storeDir ?? (await projectStoreDir(projectRoot)));
  const { openTracking, storeExists } = await import('../tracking/index.ts');
  if (!storeExists(store)) return undefined;
  const tracking = openTracking(store);
  try {
    for (const m of await tracking.registry.listModels()) {
      const v = (await tracking.registry.showModel(m.name)).versions.find((x) => path.resolve(projectRoot, x.artifactPath) === dir);
      if (v) return v.artifactSha256;
    }
    return undefined;
  } finally {
    tracking.close();
  }
}
