// What `kiln predict` and `kiln serve` share: resolve the artifact reference, verify and load it, print warnings.
import path from 'node:path';
import { report, type Io } from './io.ts';
import type { LoadedArtifact } from '../artifact/load.ts';

export async function openArtifact(io: Io, ref: string, project: string, backend?: string): Promise<LoadedArtifact> {
  const { resolveArtifact } = await import('../artifact/resolve.ts');
  const { loadArtifact } = await import('../artifact/load.ts');
  const { dir, digest } = await resolveArtifact(ref, path.resolve(io.cwd, project));
  const artifact = await loadArtifact(dir, { ...(backend ? { backend } : {}), ...(digest ? { digest } : {}) });
  if (artifact.warnings.length) report(io, artifact.warnings);
  return artifact;
}
