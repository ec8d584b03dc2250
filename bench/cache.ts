// bench/cache.ts: a cold run of the flagship pipeline against a fully cached re-run (every node skipped because
// its code, parameters and inputs did not change), each as a real `kiln run` process on a fresh copy of the project.
// Prints JSON. Target: the cached re-run at least 20x faster. Usage: npx tsx bench/cache.ts [--rounds 3]
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildKiln } from '../scripts/build.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 3;

function kiln(args: string[], cwd: string): Promise<{ ms: number; stderr: string; stdout: string }> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [path.join(repo, 'bin', 'kiln.js'), ...args], { cwd, env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`kiln ${args.join(' ')} failed: ${stderr}`));
      else resolve({ ms: performance.now() - start, stdout, stderr });
    });
  });
}

// The bin runs lib/: never a stale one.
await buildKiln();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Inside the repository (ignored .kiln/), so that the copy resolves 'kiln' and its packages like a checkout.
const project = path.join(repo, '.kiln', 'bench', `cache-${randomBytes(4).toString('hex')}`);
await fs.mkdir(project, { recursive: true });
await fs.cp(path.join(repo, 'kiln.yaml'), path.join(project, 'kiln.yaml'));
await fs.cp(path.join(repo, 'pipelines'), path.join(project, 'pipelines'), { recursive: true });
try {
  const cold = await kiln(['run'], project);
  const cached: number[] = [];
  let last = '';
  for (let i = 0; i < rounds; i++) {
    const r = await kiln(['run'], project);
    if (!/all skipped as unchanged/.test(r.stderr)) throw new Error(`re-run ${i + 1} did not skip every node:\n${r.stderr}`);
    cached.push(r.ms);
    last = r.stderr;
  }
  const nodes = /finished: (\d+) node/.exec(last)?.[1];
  const cachedMs = median(cached);
  console.log(
    JSON.stringify(
      {
        benchmark: 'cache',
        pipeline: 'spam (flagship, full corpus)',
        nodes: Number(nodes),
        machine: { node: process.version, cpus: os.cpus().length, loadavg: os.loadavg().map((x) => Number(x.toFixed(2))) },
        coldMs: Math.round(cold.ms),
        cachedMs: Math.round(cachedMs),
        cachedRoundsMs: cached.map(Math.round),
        speedup: Number((cold.ms / cachedMs).toFixed(1)),
        target: 'cached re-run at least 20x faster than the cold run',
        met: cold.ms / cachedMs >= 20,
      },
      null,
      2,
    ),
  );
} finally {
  await fs.rm(project, { recursive: true, force: true });
}
