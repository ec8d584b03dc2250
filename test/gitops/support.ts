// Shared by the GitOps tests: temporary folders, the CLI (child process or in this process), and git repositories
// built with isomorphic-git (no git binary, as in the product).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import git from 'isomorphic-git';
import { afterAll } from 'vitest';
import { main } from '../../src/cli/main.ts';
import type { Io } from '../../src/cli/io.ts';
import { isKilnError } from '../../src/diagnostics/index.ts';

export const repoRoot = path.resolve(fileURLToPath(new URL('../../', import.meta.url)));
export const author = { name: 'Test', email: 'test@example.com', timezoneOffset: 0 };

const made: string[] = [];
if (process.env.VITEST) afterAll(() => {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

export function tempDir(prefix = 'kiln-gitops-'): string {
  const d = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  made.push(d);
  return d;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `node bin/kiln.js <args>` as a child process, colour off. */
export function kiln(args: string[], cwd: string): CliResult {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const k of ['FORCE_COLOR', 'VITEST', 'VITEST_WORKER_ID', 'VITEST_POOL_ID']) delete env[k];
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'kiln.js'), ...args], { cwd, env, encoding: 'utf8', timeout: 90_000 });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The same CLI in this process (faster; for commands that do not import project code). */
export async function kilnHere(args: string[], cwd: string): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io: Io = { out: (s) => (stdout += s), err: (s) => (stderr += s), color: false, colorErr: false, isTTY: false, cwd };
  const code = await main(['node', 'kiln', ...args], io);
  return { code, stdout, stderr };
}

export function writeFiles(root: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    const abs = path.join(root, ...rel.split('/'));
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, text);
  }
}

/** Makes `kiln-ml` (and `kiln-ml/ml`) resolve to this repository inside a temporary project, as an installed dependency would. */
export function linkKiln(project: string): void {
  fs.mkdirSync(path.join(project, 'node_modules'), { recursive: true });
  fs.symlinkSync(repoRoot, path.join(project, 'node_modules', 'kiln-ml'), 'dir');
}

export async function gitInit(dir: string): Promise<void> {
  await git.init({ fs, dir, defaultBranch: 'main' });
}

/** Stages every change (additions, modifications, deletions; ignored files stay out) and commits. */
export async function commitAll(dir: string, message: string, timestamp?: number): Promise<string> {
  for (const [file, head, work, stage] of await git.statusMatrix({ fs, dir })) {
    if (work === 0) await git.remove({ fs, dir, filepath: file });
    else if (head !== work || work !== stage) await git.add({ fs, dir, filepath: file });
  }
  return git.commit({ fs, dir, message, author: { ...author, ...(timestamp ? { timestamp } : {}) } });
}

export async function checkoutNewBranch(dir: string, ref: string): Promise<void> {
  await git.branch({ fs, dir, ref, checkout: true });
}

export async function checkout(dir: string, ref: string): Promise<void> {
  await git.checkout({ fs, dir, ref, force: true });
}

/** Merges `theirs` into `ours` with a merge commit (no fast-forward), then checks `ours` out. */
export async function mergeInto(dir: string, ours: string, theirs: string): Promise<string> {
  await checkout(dir, ours);
  const r = await git.merge({ fs, dir, ours, theirs, fastForward: false, author, message: `Merge ${theirs} into ${ours}` });
  await checkout(dir, ours);
  return r.oid!;
}

/** The codes of the KilnError `fn` throws. */
export async function codesOf(fn: () => unknown): Promise<string[]> {
  try {
    await fn();
  } catch (e) {
    if (isKilnError(e)) return e.diagnostics.map((d) => d.code);
    throw e;
  }
  throw new Error('expected a KilnError, but nothing was thrown');
}
