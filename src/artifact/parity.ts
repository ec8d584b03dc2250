// The parity check: fresh processes load the finished artifact and must reproduce training's outputs exactly, whatever
// the batching (one batch, one at a time, a random partition), and away from the project (another working directory,
// a reduced environment, a moved clock, Math.random refused).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { diag, KilnError } from '../diagnostics/diagnostic.ts';
import type { Diagnostic } from '../diagnostics/types.ts';
import type { ParityVerdict } from './parity-worker.ts';
import { besideModule, kilnModuleExtension } from '../runtime/kiln-self.ts';

// The worker loads the built artifact (JavaScript) with kiln's own code: a TypeScript loader only when that code is
// kiln's sources.
const worker = besideModule(import.meta.url, 'parity-worker');
const loaderArgs = (): string[] => (kilnModuleExtension === '.ts' ? ['--import', createRequire(import.meta.url).resolve('tsx')] : []);

export interface ParityResult {
  records: number;
  backend: string | null;
  ms: number;
  /** Records replayed alone (all, or a seeded sample), and the sizes of the random partition's batches. */
  alone?: number;
  partition?: number[];
}

type Mode = 'batches' | 'hermetic';

async function replay(dir: string, mode: Mode): Promise<ParityVerdict> {
  const child = spawn(process.execPath, [...loaderArgs(), worker, dir, mode], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KILN_PARITY: '1' } });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  const line = out.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as ParityVerdict;
  } catch {
    throw new Error(`the parity check process (${mode}) exited with code ${code} without a verdict: ${err.slice(-2000)}`);
  }
}

const cut = (v: string | number) => (typeof v === 'string' && v.length > 200 ? `${v.slice(0, 200)}…` : v);

function failure(v: Exclude<ParityVerdict, { ok: true }>, backend: string | null): Error {
  if ('code' in v) {
    const args: Record<string, string | number> = { backend: backend ?? 'none' };
    for (const [k, x] of Object.entries(v.args)) args[k] = k === 'got' || k === 'expected' || k === 'detail' ? cut(x) : x;
    return new KilnError(diag(v.code, args));
  }
  if (Array.isArray(v.error)) return new KilnError(v.error as Diagnostic[]);
  return new Error(`the parity check failed to load the artifact: ${String(v.error)}`);
}

export async function checkParity(dir: string, backend: string | null): Promise<ParityResult> {
  const start = performance.now();
  // Two processes at once: the hermetic one must load the artifact with the clock already moved.
  const [batches, hermetic] = await Promise.all([replay(dir, 'batches'), replay(dir, 'hermetic')]);
  // Batching first: a difference there (or Math.random) is also behind any difference away from the project.
  if (!batches.ok) throw failure(batches, backend);
  if (!hermetic.ok) throw failure(hermetic, backend);
  return { records: batches.records, backend: batches.backend, ms: performance.now() - start, alone: batches.alone, partition: batches.partition };
}
