// The parity check: a fresh process loads the finished artifact and must reproduce training's outputs exactly.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { diag, KilnError } from '../diagnostics/diagnostic.ts';
import type { Diagnostic } from '../diagnostics/types.ts';

const worker = path.join(path.dirname(fileURLToPath(import.meta.url)), 'parity-worker.ts');
const tsxLoader = createRequire(import.meta.url).resolve('tsx');

export interface ParityResult {
  records: number;
  backend: string | null;
  ms: number;
}

export async function checkParity(dir: string, backend: string | null): Promise<ParityResult> {
  const start = performance.now();
  const child = spawn(process.execPath, ['--import', tsxLoader, worker, dir], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KILN_PARITY: '1' } });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  const line = out.trim().split('\n').pop() ?? '';
  let verdict: { ok: boolean; records?: number; backend?: string | null; mismatch?: { record: number; expected: string; got: string } | null; error?: Diagnostic[] | string };
  try {
    verdict = JSON.parse(line) as typeof verdict;
  } catch {
    throw new Error(`the parity check process exited with code ${code} without a verdict: ${err.slice(-2000)}`);
  }
  if (verdict.ok) return { records: verdict.records ?? 0, backend: verdict.backend ?? null, ms: performance.now() - start };
  if (verdict.mismatch) {
    const cut = (s: string) => (s.length > 200 ? `${s.slice(0, 200)}…` : s);
    throw new KilnError(diag('KILN6006', { record: verdict.mismatch.record, got: cut(verdict.mismatch.got), expected: cut(verdict.mismatch.expected), backend: backend ?? 'none' }));
  }
  if (Array.isArray(verdict.error)) throw new KilnError(verdict.error);
  throw new Error(`the parity check failed to load the artifact: ${verdict.error}`);
}
