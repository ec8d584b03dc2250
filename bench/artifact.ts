// Benchmark of an inference artifact as shipped: its size on disk (by part) and the time to load it and answer one
// record in a fresh process, the way `kiln predict` and `kiln serve` start. The baseline is another artifact folder
// measured in the same run (e.g. one built before artifacts carried TensorFlow.js, placed where it can resolve it).
//
//   npx tsx bench/artifact.ts <artifact-dir> [--baseline <artifact-dir>] [--rounds 5]
//
// Prints JSON. Both folders are loaded with { trust: 'manifest' } (every file is still hashed and checked).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { kilnVersion } from '../src/version.ts';

const self = fileURLToPath(import.meta.url);
const args = process.argv.slice(2);

/** In the child: load, then predict the first parity record; the times are measured inside the process. */
async function child(dir: string): Promise<void> {
  const t0 = performance.now();
  const { loadArtifact } = await import('../src/artifact/load.ts');
  const t1 = performance.now();
  const artifact = await loadArtifact(dir, { trust: 'manifest' });
  const t2 = performance.now();
  const first = JSON.parse(fs.readFileSync(path.join(dir, 'parity.jsonl'), 'utf8').split('\n')[0]) as { input: unknown; output: unknown };
  const [out] = await artifact.predict([first.input]);
  const t3 = performance.now();
  if (JSON.stringify(out) !== JSON.stringify(first.output)) throw new Error('the first parity record came out different');
  process.stdout.write(JSON.stringify({ importKilnMs: t1 - t0, loadArtifactMs: t2 - t1, firstPredictMs: t3 - t2, backend: artifact.backend }) + '\n');
}

function sizeOf(dir: string): Record<string, number> {
  const parts: Record<string, number> = { total: 0 };
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else {
        const n = fs.statSync(path.join(dir, r)).size;
        const part = r.includes('/') ? r.split('/')[0] : r;
        parts[part] = (parts[part] ?? 0) + n;
        parts.total += n;
      }
    }
  };
  walk('');
  return parts;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** One fresh process loading `dir` and answering one record. */
function once(dir: string): Record<string, number | string> {
  const t = performance.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', dir], { encoding: 'utf8', cwd: path.dirname(self) });
  const wallMs = performance.now() - t;
  if (r.status !== 0) throw new Error(`loading ${dir} failed: ${r.stderr.slice(-2000)}`);
  return { ...(JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number | string>), processWallMs: wallMs };
}

function summary(dir: string, runs: Array<Record<string, number | string>>): Record<string, unknown> {
  const med = (k: string) => Math.round(median(runs.map((x) => x[k] as number)));
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { format: number; runtime?: unknown };
  return {
    dir,
    format: manifest.format,
    runtime: manifest.runtime ?? null,
    bytes: sizeOf(dir),
    backend: runs[0].backend,
    medianMs: { loadArtifact: med('loadArtifactMs'), firstPredict: med('firstPredictMs'), importKiln: med('importKilnMs'), processWall: med('processWallMs') },
  };
}

if (args[0] === '--child') {
  await child(path.resolve(args[1]));
} else {
  const dir = path.resolve(args[0] ?? '');
  const baselineAt = args.indexOf('--baseline');
  const baseline = baselineAt >= 0 ? path.resolve(args[baselineAt + 1]) : null;
  const rounds = Number(args[args.indexOf('--rounds') + 1] ?? 5) || 5;
  const runs: Record<string, Array<Record<string, number | string>>> = { artifact: [], baseline: [] };
  // Rounds alternate between the two, so that a change in the machine's load falls on both.
  for (let i = 0; i < rounds; i++) {
    if (baseline) runs.baseline.push(once(baseline));
    runs.artifact.push(once(dir));
  }
  const out: Record<string, unknown> = { kiln: kilnVersion, node: process.version, cpus: os.cpus().length, load: os.loadavg()[0], rounds };
  if (baseline) out.baseline = summary(baseline, runs.baseline);
  out.artifact = summary(dir, runs.artifact);
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
}
