// Reusing an earlier run's artifact when everything parity depends on is the same: its verdict (only when its run
// recorded that parity passed, with the digest of exactly that folder) and its files (hard-linked, not copied).
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Tracking } from '../tracking/index.ts';
import { passedDigest } from './anchor.ts';
import { MANIFEST_FILE, type ArtifactManifest, type ArtifactRuntime } from './manifest.ts';
import { readManifest, verifiedArtifact } from './verify.ts';

/**
 * Everything the parity verdict depends on: the artifact's layout (a format 1 folder has no TensorFlow.js of its
 * own, whatever else matches), what it needs installed, kiln, backend, wiring, node code (fingerprints), fitted state, records.
 */
export interface ArtifactIdentity {
  format: number;
  runtime: ArtifactRuntime | null;
  kiln_version: string;
  backend: string | null;
  generated_sha256: string;
  nodes: string[];
  fitted: string[];
  parity: string;
}

function identityOf(m: ArtifactManifest): ArtifactIdentity {
  return {
    format: m.format,
    runtime: m.runtime ?? null,
    kiln_version: m.kiln_version,
    backend: m.backend.name,
    generated_sha256: m.generated_sha256,
    nodes: m.nodes.map((n) => `${n.name}:${n.fingerprint}`),
    fitted: Object.entries(m.fitted_state).map(([k, v]) => `${k}:${v.sha256}:${v.path}`).sort(),
    parity: m.parity.source,
  };
}

/**
 * The newest artifact of an earlier run with the same identity whose run recorded a passed parity check and the
 * digest of this very folder. A folder left by a run killed before its verdict, or one edited since, is never reused.
 */
export async function findIdenticalArtifact(tracking: Tracking, modelDir: string, want: ArtifactIdentity): Promise<{ dir: string; manifest: ArtifactManifest } | null> {
  let names: string[];
  try {
    names = (await fs.readdir(modelDir)).filter((n) => !n.startsWith('.')).sort().reverse();
  } catch {
    return null;
  }
  const key = JSON.stringify(want);
  const model = path.basename(modelDir);
  for (const name of names.slice(0, 50)) {
    const dir = path.join(modelDir, name);
    try {
      if (JSON.stringify(identityOf(await readManifest(dir))) !== key) continue;
      const run = await tracking.runs.getRun(name);
      if (run.id !== name) continue;
      return { dir, manifest: (await verifiedArtifact(dir, { digest: passedDigest(run, model, dir) })).manifest };
    } catch {
      // Not an intact artifact with a passed verdict: never reuse it.
    }
  }
  return null;
}

/** Hard links (a copy where links fail: another device, a file system without them) of every file but the manifest. */
export async function linkArtifactFiles(from: { dir: string; manifest: ArtifactManifest }, to: string): Promise<void> {
  for (const file of Object.keys(from.manifest.files)) {
    if (file === MANIFEST_FILE) continue;
    const src = path.join(from.dir, ...file.split('/'));
    const dest = path.join(to, ...file.split('/'));
    await fs.mkdir(path.dirname(dest), { recursive: true });
    try {
      await fs.link(src, dest);
    } catch {
      await fs.copyFile(src, dest);
    }
  }
}
