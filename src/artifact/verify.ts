// Verifying an artifact before anything in it is loaded: a readable manifest, and every file present, unchanged
// and listed (nothing missing, nothing added).
import fs from 'node:fs/promises';
import path from 'node:path';
import { diag, KilnError } from '../diagnostics/diagnostic.ts';
import { hashFile } from '../tracking/objects.ts';
import { MANIFEST_FILE, manifestProblem, type ArtifactManifest } from './manifest.ts';

async function listFiles(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(dir, r)));
    else out.push(r);
  }
  return out.sort();
}

/** Hashes of every file under `dir` except the manifest, by relative path. */
export async function hashArtifactFiles(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of await listFiles(dir)) if (f !== MANIFEST_FILE) out[f] = await hashFile(path.join(dir, ...f.split('/')));
  return out;
}

export async function readManifest(dir: string): Promise<ArtifactManifest> {
  let text: string;
  try {
    text = await fs.readFile(path.join(dir, MANIFEST_FILE), 'utf8');
  } catch {
    throw new KilnError(diag('KILN6009', { ref: dir, reason: `there is no ${MANIFEST_FILE} in it`, fix: 'Give the folder of a built artifact (.kiln/artifacts/<model>/<run-id>), or a registry reference such as spam-filter@production.' }));
  }
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch (e) {
    throw new KilnError(diag('KILN6005', { artifact: dir, reason: `it is not valid JSON (${(e as Error).message})` }));
  }
  const problem = manifestProblem(manifest);
  if (problem) throw new KilnError(diag('KILN6005', { artifact: dir, reason: problem }));
  return manifest as ArtifactManifest;
}

/** The artifact's digest: the sha256 of manifest.json, which lists the sha256 of every other file (a Merkle root). */
export async function artifactDigest(dir: string): Promise<string> {
  return hashFile(path.join(dir, MANIFEST_FILE));
}

/**
 * Throws KilnError unless every file of the artifact is exactly what its manifest lists, and, when `digest` is given
 * (from the registry or the run that built it), unless the manifest itself is the one that was recorded.
 */
export async function verifyArtifact(dir: string, digest?: string): Promise<ArtifactManifest> {
  if (digest !== undefined) {
    let actual: string;
    try {
      actual = await artifactDigest(dir);
    } catch {
      actual = '';
    }
    if (actual && actual !== digest) throw new KilnError(diag('KILN6002', { artifact: dir, problem: `${MANIFEST_FILE} does not match the sha256 ${digest.slice(0, 12)}… recorded when it was built or published` }));
  }
  const manifest = await readManifest(dir);
  const present = new Set((await listFiles(dir)).filter((f) => f !== MANIFEST_FILE));
  for (const [file, hash] of Object.entries(manifest.files).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (file.split('/').some((p) => p === '..' || p === '') || path.isAbsolute(file)) throw new KilnError(diag('KILN6005', { artifact: dir, reason: `it lists a path outside the artifact: ${file}` }));
    if (!present.has(file)) throw new KilnError(diag('KILN6003', { artifact: dir, file }));
    if ((await hashFile(path.join(dir, ...file.split('/')))) !== hash) throw new KilnError(diag('KILN6002', { artifact: dir, problem: `${file} does not match its sha256 in ${MANIFEST_FILE}` }));
    present.delete(file);
  }
  const extra = [...present];
  if (extra.length) throw new KilnError(diag('KILN6004', { artifact: dir, file: extra.join(', ') }));
  return manifest;
}
