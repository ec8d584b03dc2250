// A run killed while its artifact's parity check runs leaves nothing that can be loaded or reused: the artifact only
// becomes visible once its run recorded that parity passed. The scorer's node here is not deterministic (so parity
// would fail), and sleeps when replayed by the parity check, so the kill lands in the check every time.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { loadArtifact } from '../../src/index.ts';
import { isKilnError } from '../../src/diagnostics/diagnostic.ts';
import { runCli } from '../helpers/cli.ts';
import { copyProject, repoRoot } from '../helpers/project.ts';
import { warmProject } from '../helpers/warm-project.ts';
import { until } from './kiln-process.ts';

let root: string;

beforeAll(async () => {
  const src = copyProject('scorer');
  const nodes = path.join(src, 'pipelines', 'score', 'nodes.ts');
  const slowInParity = 'const env = (globalThis as unknown as { process: { env: Record<string, string | undefined> } }).process.env;\n    if (env.KILN_PARITY && env.SCORER_PARITY_SLEEP_MS) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(env.SCORER_PARITY_SLEEP_MS));\n    ';
  fs.writeFileSync(nodes, fs.readFileSync(nodes, 'utf8').replace('const z = (r.x - args.stats.mean) / args.stats.std;', `${slowInParity}const z = (r.x - args.stats.mean) / args.stats.std + ((globalThis as unknown as { performance: { timeOrigin: number } }).performance.timeOrigin % 1000) * 1e-9;`));
  root = await warmProject(src);
}, 120_000);

function manifests(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((n) => fs.existsSync(path.join(dir, n, 'manifest.json')));
}

it('a run killed during its parity check leaves no loadable or reusable artifact, and the next run checks parity (and fails it)', async () => {
  const artifacts = path.join(root, '.kiln', 'artifacts', 'scorer');
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', SCORER_PARITY_SLEEP_MS: '30000' };
  for (const k of ['FORCE_COLOR', 'VITEST', 'VITEST_WORKER_ID', 'VITEST_POOL_ID']) delete env[k];
  // Its own process group, so that the kill takes the parity check's process with it, as a killed terminal would.
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'kiln.js'), 'run'], { cwd: root, env, detached: true, stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  try {
    await until(() => manifests(artifacts).length > 0, 'the artifact manifest to be written', 120_000);
    // The manifest is the last file written before the check starts; the check then sleeps for 30 s.
    await new Promise((r) => setTimeout(r, 1500));
  } finally {
    process.kill(-child.pid!, 'SIGKILL');
  }
  await exited;

  expect(manifests(artifacts), 'no artifact folder in place, only the hidden one being checked').toEqual([expect.stringMatching(/^\.\w+\.building-/)]);
  for (const name of manifests(artifacts)) {
    const refused = await loadArtifact(path.join(artifacts, name)).then(
      () => 'loaded',
      (e: unknown) => (isKilnError(e) ? e.diagnostics[0].code : String(e)),
    );
    expect(refused).toBe('KILN6109');
  }

  const next = runCli(['run'], { cwd: root, timeoutMs: 180_000 });
  expect(next.code, next.stderr).toBe(1);
  expect(next.stderr).toMatch(/KILN6006: parity check failed: record \d+ gives/);
  expect(next.stderr).not.toMatch(/parity: \d+ record\(s\) identical/);
  // The killed build's folder is swept (its process is gone), and the failed one removes its own.
  expect(fs.readdirSync(artifacts)).toEqual([]);
}, 300_000);
