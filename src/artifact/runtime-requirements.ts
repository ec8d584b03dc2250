// What an artifact needs installed where it is loaded: nothing when it carries TensorFlow.js (carried-tfjs.ts); the
// exact TensorFlow.js packages of its training run when it was verified on a backend it cannot carry (a native
// binding, the GPU). Checked before the artifact's code is imported, so that a missing package is a diagnostic
// naming what to install rather than a module resolution error from inside model.mjs.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { diag, KilnError } from '../diagnostics/diagnostic.ts';
import type { ArtifactManifest } from './manifest.ts';

const BACKEND_PACKAGES: Record<string, string[]> = {
  'tfjs-node': ['@tensorflow/tfjs-node'],
  'tfjs-node-gpu': ['@tensorflow/tfjs-node-gpu'],
  webgpu: ['@tensorflow/tfjs-backend-webgpu', 'webgpu'],
};

function installedVersion(resolveFrom: string, pkg: string): string | null {
  try {
    const file = createRequire(resolveFrom).resolve(`${pkg}/package.json`);
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return null;
  }
}

/** The packages, at the versions installed with kiln (those training used), an artifact verified on `backend` needs. */
export function requirementsOf(backend: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pkg of ['@tensorflow/tfjs', ...(BACKEND_PACKAGES[backend] ?? [])]) {
    const version = installedVersion(import.meta.url, pkg);
    if (version) out[pkg] = version;
  }
  return out;
}

/**
 * KILN6131 for every required package that model.mjs would not find, or find at another version, from where it lies;
 * KILN6132 for a format 1 artifact (built before artifacts carried TensorFlow.js) that uses it where none is found.
 */
export function checkRuntimeRequirements(dir: string, manifest: ArtifactManifest): void {
  const entry = path.join(dir, manifest.entry);
  if (!manifest.runtime) {
    if (manifest.backend.name && installedVersion(entry, '@tensorflow/tfjs') === null) {
      throw new KilnError(diag('KILN6132', { artifact: dir, run: manifest.run_id, version: manifest.backend.tfjs ?? 'its version' }));
    }
    return;
  }
  const requires = manifest.runtime.requires;
  const problems = Object.entries(requires).flatMap(([pkg, version]) => {
    const found = installedVersion(entry, pkg);
    if (found === version) return [];
    const problem = found === null ? 'it is not installed there (no node_modules above the artifact provides it)' : `version ${found} is installed there`;
    return [diag('KILN6131', { artifact: dir, package: pkg, version, backend: manifest.backend.name ?? 'none', problem, install: Object.entries(requires).map(([p, v]) => `${p}@${v}`).join(' ') })];
  });
  if (problems.length) throw new KilnError(problems);
}
