// What `kiln predict` and `kiln serve` accept as an artifact: a folder, or a registry reference such as
// spam-filter@production or spam-filter@v3 (resolved through the project's model registry).
import fs from 'node:fs';
import path from 'node:path';
import { diag, KilnError } from '../diagnostics/diagnostic.ts';
import { MANIFEST_FILE } from './manifest.ts';

const MODEL_REF = /^[A-Za-z0-9][A-Za-z0-9._-]*@[A-Za-z0-9_-]+$/;

/** The store folder kiln.yaml names (`store:`), so that registry references work whatever the project chose. */
async function projectStoreDir(projectRoot: string): Promise<string> {
  const { storeDirOf } = await import('../config/store-dir.ts');
  return storeDirOf(projectRoot);
}

/** A registered version's artifact path is relative to the project root (as `kiln publish` records it) or absolute. */
export async function resolveArtifact(ref: string, projectRoot: string, storeDir?: string): Promise<{ dir: string; version?: number; model?: string; digest?: string }> {
  const asPath = path.resolve(projectRoot, ref);
  if (fs.existsSync(path.join(asPath, MANIFEST_FILE))) {
    const digest = await digestFromRegistry(asPath, projectRoot, storeDir);
    return digest ? { dir: asPath, digest } : { dir: asPath };
  }
  if (!MODEL_REF.test(ref)) {
    throw new KilnError(diag('KILN6009', { ref, reason: fs.existsSync(asPath) ? `${asPath} has no ${MANIFEST_FILE}` : 'no such folder, and it is not a model reference', fix: 'Give an artifact folder (.kiln/artifacts/<model>/<run-id>) or a registry reference <model>@<alias> or <model>@v<version>.' }));
  }
  const { openTracking, storeExists } = await import('../tracking/index.ts');
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
