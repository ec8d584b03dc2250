// Whole-command cost of `kiln run` on a chain of trivial nodes (issue 14): a generated project with N nodes, each
// adding 1 to its input (in-memory datasets), compiled with `kiln compile`, then a cold `kiln run` and a fully cached
// re-run, each a real process. CPU time (user + system, the process and its children) from /usr/bin/time, beside
// `node -e 0` measured in the same run (the floor of any Node command). --baseline <checkout> runs the same chains with
// another built kiln checkout (e.g. a worktree of main) in the same run, and reports this one's CPU as a ratio to it.
// Prints JSON.
//
//   npx tsx bench/run-chain.ts [--nodes 100] [--cached-nodes 1000] [--baseline ../kiln-main]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const baselineArg = process.argv.indexOf('--baseline');
const baseline = baselineArg >= 0 ? path.resolve(process.argv[baselineArg + 1]) : null;
/** Issue 14: a cold run of the 100-node chain at most the CPU `kedro run` needed for it on the machine. */
const COLD_TARGET_S = 2.5;

/** CPU seconds and wall seconds of one command, and its output. */
function measure(cmd: string[], cwd: string): { cpuS: number; wallS: number; stderr: string } {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', 'KILN_BENCH_CPU %U %S', ...cmd], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 64 << 20 });
  const wallS = (performance.now() - t0) / 1000;
  const m = /KILN_BENCH_CPU ([\d.]+) ([\d.]+)/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`${cmd.join(' ')} failed (${r.status}):\n${r.stderr}`);
  return { cpuS: Number(m[1]) + Number(m[2]), wallS, stderr: r.stderr };
}

/** A project whose pipeline is n0 → d0 → n1 → … → n(N-1), inside the repository so that it resolves kiln's packages. */
function chainProject(checkout: string, nodes: number): string {
  const root = path.join(checkout, '.kiln', 'bench', `chain-${nodes}-${process.pid}`);
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(path.join(root, 'pipelines', 'chain'), { recursive: true });
  fs.writeFileSync(path.join(root, 'kiln.yaml'), `name: chain\n`);
  fs.writeFileSync(path.join(root, 'package.json'), '{ "private": true, "type": "module" }\n');
  fs.writeFileSync(path.join(root, 'pipelines', 'catalog.yaml'), '{}\n');
  fs.writeFileSync(path.join(root, 'pipelines', 'parameters.yaml'), '{}\n');
  fs.writeFileSync(path.join(root, 'pipelines', 'chain', 'nodes.ts'), 'export function first(): number {\n  return 0;\n}\n\nexport function step(x: number): number {\n  return x + 1;\n}\n');
  const lines = ['pipeline: chain', 'nodes:'];
  for (let i = 0; i < nodes; i++) {
    lines.push(`  - name: n${i}`, `    run: ./nodes.ts#${i === 0 ? 'first' : 'step'}`);
    if (i > 0) lines.push(`    inputs: d${i - 1}`);
    lines.push(`    outputs: d${i}`);
  }
  fs.writeFileSync(path.join(root, 'pipelines', 'chain', 'pipeline.yaml'), `${lines.join('\n')}\n`);
  return root;
}

function chain(checkout: string, nodes: number) {
  const kiln = (...args: string[]) => [process.execPath, path.join(checkout, 'bin', 'kiln.js'), ...args];
  const root = chainProject(checkout, nodes);
  try {
    const compile = measure(kiln('compile'), root);
    const cold = measure(kiln('run'), root);
    if (!new RegExp(`finished: ${nodes} node\\(s\\)\\n`).test(cold.stderr)) throw new Error(`cold run did not run every node:\n${cold.stderr}`);
    const cached = measure(kiln('run'), root);
    if (!/all skipped as unchanged/.test(cached.stderr)) throw new Error(`re-run did not skip every node:\n${cached.stderr}`);
    const round = (x: number) => Number(x.toFixed(2));
    return {
      nodes,
      compile: { cpuS: round(compile.cpuS), wallS: round(compile.wallS) },
      coldRun: { cpuS: round(cold.cpuS), wallS: round(cold.wallS) },
      cachedRun: { cpuS: round(cached.cpuS), wallS: round(cached.wallS) },
    };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

const bare = measure([process.execPath, '-e', '0'], repo);
const sizes = [arg('nodes', 100), arg('cached-nodes', 1000)];
const chains = sizes.map((n) => chain(repo, n));
const base = baseline ? sizes.map((n) => chain(baseline, n)) : null;
const ratio = (a: number, b: number) => Number((a / b).toFixed(2));
console.log(
  JSON.stringify(
    {
      bench: 'run-chain',
      node: process.version,
      bareNodeCpuS: Number(bare.cpuS.toFixed(2)),
      chains,
      ...(base
        ? {
            baseline: { checkout: baseline, chains: base },
            /** This checkout's CPU over the baseline's, per chain: below 1 is cheaper. */
            cpuRatioToBaseline: chains.map((c, i) => ({ nodes: c.nodes, coldRun: ratio(c.coldRun.cpuS, base[i].coldRun.cpuS), cachedRun: ratio(c.cachedRun.cpuS, base[i].cachedRun.cpuS) })),
          }
        : {}),
      coldTargetCpuS: COLD_TARGET_S,
      coldMeetsTarget: chains[0].coldRun.cpuS <= COLD_TARGET_S,
    },
    null,
    2,
  ),
);
