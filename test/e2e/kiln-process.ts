// `node bin/kiln.js …` as real child processes that tests can watch, signal and run several at once.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../helpers/project.ts';

export interface KilnProcess {
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** Starts `kiln <args>` in `cwd`, colour off, without vitest's environment, with `extra` variables added. */
export function startKiln(args: string[], cwd: string, extra: NodeJS.ProcessEnv = {}): KilnProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...extra };
  for (const k of ['FORCE_COLOR', 'VITEST', 'VITEST_WORKER_ID', 'VITEST_POOL_ID', 'KILN_DEBUG']) delete env[k];
  const proc = spawn(process.execPath, [path.join(repoRoot, 'bin', 'kiln.js'), ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve, reject) => {
    proc.on('error', reject);
    proc.on('close', (code, signal) => resolve({ code, signal, stdout: out, stderr: err }));
  });
  return { proc, stdout: () => out, stderr: () => err, exited };
}

/** Runs `kiln <args>` to the end. */
export function kiln(args: string[], cwd: string, extra: NodeJS.ProcessEnv = {}) {
  return startKiln(args, cwd, extra).exited;
}

export async function until(check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
