// bench/cli.ts: what a whole command costs from the shell, against bare Node started in the same run: `node -e 0`,
// `kiln --version`, `kiln validate` of the flagship (the repository's own project) and `kiln runs list` on a store of
// ~50 runs (a temporary copy of a small project). Medians of wall milliseconds over --reps repetitions, each as a
// delta and a ratio to bare Node, with the median CPU time of each (Linux). The commands are interleaved per
// repetition, so load on a shared machine hits them alike. --baseline <checkout> measures another kiln checkout (e.g. a worktree of main) in the same run.
//
//   npx tsx bench/cli.ts [--reps 15] [--runs 50] [--baseline ../kiln-main]
//
// Prints JSON. Goals (idle 2-core machine): --version within 100 ms of bare Node, validate under 400 ms, runs list
// under 300 ms.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildKiln } from '../scripts/build.ts';
import { main } from '../src/cli/main.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const reps = Number(arg('--reps') ?? 15);
const runCount = Number(arg('--runs') ?? 50);
const baseline = arg('--baseline') ? path.resolve(arg('--baseline')!) : undefined;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// CPU time of waited-for children (Linux: cutime + cstime of /proc/self/stat, in clock ticks of 10 ms): on a shared,
// busy machine it moves much less with the load than wall time does. null where there is no /proc.
function childrenCpuMs(): number | null {
  try {
    const fields = fs.readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /, '').split(' ');
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return null;
  }
}

function measure(args: string[], cwd: string): { wall: number; cpu: number | null } {
  const cpu0 = childrenCpuMs();
  const start = performance.now();
  const r = spawnSync(process.execPath, args, { cwd, env: { ...process.env, NO_COLOR: '1' }, encoding: 'utf8' });
  const wall = performance.now() - start;
  const cpu1 = childrenCpuMs();
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} in ${cwd} exited ${r.status}: ${r.stderr}`);
  return { wall, cpu: cpu0 === null || cpu1 === null ? null : cpu1 - cpu0 };
}

// A store of `runCount` runs of a one-node project, written by this kiln in-process (a run is not what is measured).
async function storeWithRuns(): Promise<string> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-bench-cli-'));
  fs.cpSync(path.join(repo, 'test', 'fixtures', 'projects', 'mini'), root, { recursive: true });
  const io = { out: () => {}, err: () => {}, color: false, colorErr: false, isTTY: false, cwd: root };
  for (let i = 0; i < runCount; i++) {
    const code = await main(['node', 'kiln', 'run', '--params', `scale=${i + 1}`], io);
    if (code !== 0) throw new Error(`run ${i + 1} of the runs-list project exited ${code}`);
  }
  return root;
}

interface Case {
  name: string;
  args: (bin: string) => string[];
  cwd: (checkout: string) => string;
}

await buildKiln();
const runsProject = await storeWithRuns();
const cases: Case[] = [
  { name: 'kiln --version', args: (bin) => [bin, '--version'], cwd: (c) => c },
  { name: 'kiln validate (flagship)', args: (bin) => [bin, 'validate'], cwd: (c) => c },
  { name: `kiln runs list (${runCount} runs)`, args: (bin) => [bin, 'runs', 'list'], cwd: () => runsProject },
];
const checkouts = { current: repo, ...(baseline ? { baseline } : {}) };
const samples: Record<string, Array<{ wall: number; cpu: number | null }>> = {};
for (let i = 0; i <= reps; i++) {
  // Repetition 0 warms the file cache and is not counted.
  const keep = (key: string, m: { wall: number; cpu: number | null }) => i > 0 && (samples[key] ??= []).push(m);
  keep('node -e 0', measure(['-e', '0'], repo));
  for (const [label, dir] of Object.entries(checkouts)) for (const c of cases) keep(`${label}: ${c.name}`, measure(c.args(path.join(dir, 'bin', 'kiln.js')), c.cwd(dir)));
}
fs.rmSync(runsProject, { recursive: true, force: true });

const cpuOf = (xs: Array<{ cpu: number | null }>) => (xs.every((x) => x.cpu !== null) ? median(xs.map((x) => x.cpu!)) : null);
const node = median(samples['node -e 0'].map((x) => x.wall));
const nodeCpu = cpuOf(samples['node -e 0']);
const results = Object.fromEntries(
  Object.entries(samples).map(([key, xs]) => {
    const ms = median(xs.map((x) => x.wall));
    const cpu = cpuOf(xs);
    return [key, { medianMs: Math.round(ms), deltaMs: Math.round(ms - node), ratio: Number((ms / node).toFixed(2)), cpuMs: cpu, cpuDeltaMs: cpu === null || nodeCpu === null ? null : cpu - nodeCpu }];
  }),
);
const at = (key: string) => results[`current: ${key}`];
process.stdout.write(
  JSON.stringify(
    {
      bench: 'cli',
      node: process.version,
      cpus: os.cpus().length,
      loadavg: os.loadavg().map((x) => Number(x.toFixed(2))),
      reps,
      baseline: 'node -e 0, same run',
      checkouts,
      targets: '--version within 100 ms of bare node; validate under 400 ms; runs list under 300 ms (idle 2-core machine)',
      met: {
        version: at('kiln --version').deltaMs <= 100,
        validate: at('kiln validate (flagship)').medianMs < 400,
        runsList: at(`kiln runs list (${runCount} runs)`).medianMs < 300,
      },
      results,
    },
    null,
    2,
  ) + '\n',
);
