// Cost of the graph work behind `kiln validate` and `kiln run` filters, on two shapes: a chain (n0 → n1 → …) and a
// fan-out (one source node, every other node reading its one dataset). For 1,000, 10,000 and 100,000 nodes it times
// the topological order (what validate computes) and three filters (`--nodes` of three nodes, `--from-nodes` of the
// first node, `--to-outputs` of the last dataset). The baseline, measured in the same run, is the same work at
// 1,000 nodes: `ratio` is the time per node at each size over the time per node at 1,000, so linear code stays
// near 1 and quadratic code grows with the size. Each measurement is the median of several repeats, as wall time
// and as CPU time of the process (the ratio uses CPU time, which a machine shared with other work distorts less).
// Prints JSON.
//
//   npx tsx bench/graph.ts [--sizes 1000,10000,100000] [--repeats 5]
import { filterNodes, type NodeFilter } from '../src/ir/filter.ts';
import { topologicalOrder } from '../src/ir/graph.ts';
import type { NodeIR } from '../src/ir/types.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const SIZES = arg('sizes', '1000,10000,100000').split(',').map(Number);
const REPEATS = Number(arg('repeats', '5'));
const TARGET_MS_AT_10000 = 20;

type Shape = 'chain' | 'fanout';

function node(name: string, inputs: string[], outputs: string[]): NodeIR {
  return {
    name,
    func: { module: 'pipelines/bench/nodes.ts', export: 'step' },
    inputForm: inputs.length ? 'list' : 'none',
    inputs: inputs.map((dataset, index) => ({ key: null, index, dataset })),
    outputForm: 'list',
    outputs: outputs.map((dataset, index) => ({ key: null, index, dataset })),
    tags: [],
    namespace: null,
    declaredIn: 'pipelines/bench/pipeline.yaml',
    inferenceAllow: [],
  };
}

/** chain: node i reads d(i-1) and writes d(i). fanout: n0 writes d0, every other node reads d0 and writes its own. */
function graphNodes(shape: Shape, n: number): NodeIR[] {
  const out: NodeIR[] = [];
  for (let i = 0; i < n; i++) {
    const input = i === 0 ? [] : [shape === 'chain' ? `d${i - 1}` : 'd0'];
    out.push(node(`n${i}`, input, [`d${i}`]));
  }
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function time(fn: () => unknown): { wall: number; cpu: number } {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

function cases(n: number): Record<string, (nodes: NodeIR[]) => unknown> {
  const filter = (f: NodeFilter) => (nodes: NodeIR[]) => filterNodes(nodes, f);
  return {
    topologicalOrder: (nodes) => topologicalOrder(nodes),
    '--nodes n1,n2,n3': filter({ nodes: ['n1', 'n2', 'n3'] }),
    '--from-nodes n0': filter({ fromNodes: ['n0'] }),
    [`--to-outputs d${n - 1}`]: filter({ toOutputs: [`d${n - 1}`] }),
  };
}

const results: Array<Record<string, unknown>> = [];
for (const shape of ['chain', 'fanout'] as const) {
  const perNodeAtBase = new Map<string, number>();
  for (const n of SIZES) {
    const nodes = graphNodes(shape, n);
    for (const [work, fn] of Object.entries(cases(n))) {
      const label = work.replace(/d\d+$/, 'last');
      fn(nodes); // warm-up: compile the code paths before timing them
      const { wall, cpu } = time(() => fn(nodes));
      if (!perNodeAtBase.has(label)) perNodeAtBase.set(label, cpu / n);
      results.push({ shape, nodes: n, work: label, ms: Number(wall.toFixed(2)), cpuMs: Number(cpu.toFixed(2)), ratio: Number((cpu / n / perNodeAtBase.get(label)!).toFixed(2)) });
    }
  }
}
const at10k = results.filter((r) => r.nodes === 10_000);
console.log(
  JSON.stringify(
    {
      bench: 'graph',
      repeats: REPEATS,
      baseline: `time per node at ${SIZES[0]} nodes (ratio 1); ratio = time per node at each size / baseline`,
      targetMsAt10000: TARGET_MS_AT_10000,
      worstCpuMsAt10000: at10k.length ? Math.max(...at10k.map((r) => r.cpuMs as number)) : null,
      results,
    },
    null,
    2,
  ),
);
