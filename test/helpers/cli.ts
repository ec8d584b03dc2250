// Running the kiln CLI from tests: in-process through main(argv, io) with captured output, or as a real child
// process (`node bin/kiln.js`) where the exit code and the environment matter.
import { spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { main } from '../../src/cli/main.ts';
import type { Io } from '../../src/cli/io.ts';
import { repoRoot } from './project.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface MemoryIo {
  io: Io;
  stdout(): string;
  stderr(): string;
}

/** An Io that collects what a command prints; colour off unless asked for. */
export function memoryIo(opts: { cwd: string; color?: boolean; isTTY?: boolean }): MemoryIo {
  let out = '';
  let err = '';
  const io: Io = {
    out: (s) => {
      out += s;
    },
    err: (s) => {
      err += s;
    },
    color: opts.color ?? false,
    colorErr: opts.color ?? false,
    isTTY: opts.isTTY ?? false,
    cwd: opts.cwd,
  };
  return { io, stdout: () => out, stderr: () => err };
}

/** `kiln <args>` in this process, as the bin would run it. */
export async function runMain(args: string[], opts: { cwd: string; color?: boolean }): Promise<CliResult> {
  const m = memoryIo(opts);
  const code = await main(['node', 'kiln', ...args], m.io);
  return { code, stdout: m.stdout(), stderr: m.stderr() };
}

/** `node bin/kiln.js <args>` as a child process. The environment is the test's, minus colour settings, plus `env`. */
export function runCli(args: string[], opts: { cwd: string; env?: Record<string, string | undefined>; timeoutMs?: number }): CliResult {
  const env: Record<string, string | undefined> = { ...process.env };
  delete env.FORCE_COLOR;
  delete env.NO_COLOR;
  // vitest sets these for its workers; a CLI run should not see them.
  delete env.VITEST;
  delete env.VITEST_WORKER_ID;
  delete env.VITEST_POOL_ID;
  Object.assign(env, opts.env ?? {});
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'kiln.js'), ...args], {
    cwd: opts.cwd,
    env: env as NodeJS.ProcessEnv,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 60_000,
  });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The port a `kiln serve --port 0` child process says it listens on (rejects with its stderr if it exits first). */
export function servingPort(child: ChildProcessWithoutNullStreams): Promise<number> {
  let err = '';
  return new Promise<number>((resolve, reject) => {
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
      const m = /on http:\/\/127\.0\.0\.1:(\d+)/.exec(err);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', () => reject(new Error(err)));
  });
}
