// Verifying an artifact before anything in it is loaded: a manifest that is the one its run or the registry recorded
// (see anchor.ts), and every file present, unchanged, listed (nothing missing, nothing added) and a regular file.
// The one path every entry point takes: loadArtifact, kiln predict and serve, kiln publish, the registry.
import type { Dirent } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { diag, isKilnError, KilnError } from '../diagnostics/diagnostic.ts';
import type { Diagnostic } from '../diagnostics/types.ts';
import { hashFile } from '../tracking/objects.ts';
import { anchorOf, type AnchorOptions } from './anchor.ts';
import { MANIFEST_FILE, manifestProblem, type ArtifactManifest } from './manifest.ts';

function kindOf(e: Dirent): string {
  if (e.isSymbolicLink()) return 'a symbolic link';
  if (e.isFIFO()) return 'a FIFO';
  if (e.isSocket()) return 'a socket';
  if (e.isBlockDevice() || e.isCharacterDevice()) return 'a device';
  return 'not a file';
}

/** Every file under `dir`, refusing anything but regular files and folders: reading through a link or a FIFO would hash something else, or hang. */
async function listFiles(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(dir, r)));
    else if (e.isFile()) out.push(r);
    else throw new KilnError(diag('KILN6111', { artifact: dir, file: r, kind: kindOf(e) }));
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

export interface VerifiedArtifact {
  manifest: ArtifactManifest;
  /** The sha256 of manifest.json. */
  digest: string;
  /** KILN6112 when the manifest was trusted rather than checked against a record. */
  warnings: Diagnostic[];
}

/**
 * Throws KilnError unless the artifact's manifest.json is the one recorded for it (by its run, found from the store the
 * artifact lives under, or `opts.digest`, from the registry), unless `opts.trust` is 'manifest' and no record exists,
 * and unless every file is exactly what that manifest lists.
 */
export async function verifiedArtifact(dir: string, opts: AnchorOptions = {}): Promise<VerifiedArtifact> {
  let files: string[];
  try {
    files = await listFiles(dir);
  } catch (e) {
    if (isKilnError(e)) throw e;
    await readManifest(dir);
    throw e;
  }
  if (!files.includes(MANIFEST_FILE)) await readManifest(dir);
  const anchor = await anchorOf(dir, opts);
  const actual = await artifactDigest(dir);
  if (anchor !== null && actual !== anchor) throw new KilnError(diag('KILN6002', { artifact: dir, problem: `${MANIFEST_FILE} does not match the sha256 ${anchor.slice(0, 12)}… recorded when it was built or published` }));
  const manifest = await readManifest(dir);
  const present = new Set(files.filter((f) => f !== MANIFEST_FILE));
  for (const [file, hash] of Object.entries(manifest.files).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (file.split('/').some((p) => p === '..' || p === '') || path.isAbsolute(file)) throw new KilnError(diag('KILN6005', { artifact: dir, reason: `it lists a path outside the artifact: ${file}` }));
    if (!present.has(file)) throw new KilnError(diag('KILN6003', { artifact: dir, file }));
    if ((await hashFile(path.join(dir, ...file.split('/')))) !== hash) throw new KilnError(diag('KILN6002', { artifact: dir, problem: `${file} does not match its sha256 in ${MANIFEST_FILE}` }));
    present.delete(file);
  }
  const extra = [...present];
  if (extra.length) throw new KilnError(diag('KILN6004', { artifact: dir, file: extra.join(', ') }));
  return { manifest, digest: actual, warnings: anchor === null ? [diag('KILN6112', { artifact: dir, digest: actual })] : [] };
}

/** verifiedArtifact's manifest; a string second argument is the digest (as before anchoring options existed). */
export async function verifyArtifact(dir: string, opts: AnchorOptions | string = {}): Promise<ArtifactManifest> {
  return (await verifiedArtifact(dir, typeof opts === 'string' ? { digest: opts } : opts)).manifest;
}
