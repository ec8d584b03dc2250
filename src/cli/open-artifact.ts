// What `kiln predict` and `kiln serve` share: resolve the artifact reference, verify and load it, print warnings.
import path from 'node:path';
import { report, type Io } from './io.ts';
import type { LoadedArtifact } from '../artifact/load.ts';

export interface OpenFlags {
  backend?: string;
  /** --trust-manifest: load a folder no run or registry record anchors, its files checked against its manifest only. */
  trustManifest?: boolean;
}

export async function openArtifact(io: Io, ref: string, project: string, flags: OpenFlags = {}): Promise<LoadedArtifact> {
  const { resolveArtifact } = await import('../artifact/resolve.ts');
  const { loadArtifact } = await import('../artifact/load.ts');
  const { dir, digest } = await resolveArtifact(ref, path.resolve(io.cwd, project));
  const artifact = await loadArtifact(dir, { ...(flags.backend ? { backend: flags.backend } : {}), ...(digest ? { digest } : {}), ...(flags.trustManifest ? { trust: 'manifest' as const } : {}) });
  if (artifact.warnings.length) report(io, artifact.warnings);
  return artifact;
}

/**
 * Resolves and verifies the artifact, and checks what it needs installed, without loading it: what `kiln serve --workers` does in its primary, so that a
 * wrong or tampered artifact is one diagnostic from the command itself, before any worker is forked.
 */
export async function checkArtifact(io: Io, ref: string, project: string, flags: OpenFlags = {}): Promise<void> {
  const { resolveArtifact } = await import('../artifact/resolve.ts');
  const { verifiedArtifact } = await import('../artifact/verify.ts');
  const { checkRuntimeRequirements } = await import('../artifact/runtime-requirements.ts');
  const { dir, digest } = await resolveArtifact(ref, path.resolve(io.cwd, project));
  const { manifest } = await verifiedArtifact(dir, { ...(digest ? { digest } : {}), ...(flags.trustManifest ? { trust: 'manifest' as const } : {}) });
  checkRuntimeRequirements(dir, manifest);
}

/** The help text of --trust-manifest, the same for every command that has it. */
export const TRUST_MANIFEST_HELP = 'load a folder no run or registry record anchors: every file is checked against manifest.json, manifest.json itself is not';
