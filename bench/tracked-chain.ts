// The bench chain shared by bench/runner.ts and bench/tracked-profile.ts: n trivial nodes on in-memory datasets, as
// generated code would call them, with the IR and run options a `kiln run` would pass.
import type { NodeIR, ProjectIR } from '../src/ir/types.ts';
import type { CompiledNode, CompiledPipelineModule } from '../src/runtime/compiled.ts';
import type { RunOptions } from '../src/runtime/runner.ts';
import { silentReporter } from '../src/runtime/progress.ts';

export type Step = (x: number) => number | Promise<number>;

/** n0 → d0 → n1 → d1 → … : node i reads d(i-1) and writes d(i); node 0 reads nothing. */
export function chain(n: number, root: string): { ir: ProjectIR; module: CompiledPipelineModule; nodes: NodeIR[]; fns: Step[] } {
  const nodes: NodeIR[] = [];
  const compiled: Record<string, CompiledNode> = {};
  const fns: Step[] = [];
  for (let i = 0; i < n; i++) {
    const name = `n${i}`;
    const input = i === 0 ? null : `d${i - 1}`;
    const output = `d${i}`;
    const fn: Step = (x) => x + 1;
    fns.push(fn);
    nodes.push({
      name,
      func: { module: 'nodes.ts', export: 'step' },
      inputForm: input ? 'single' : 'none',
      inputs: input ? [{ key: null, index: 0, dataset: input }] : [],
      outputForm: 'single',
      outputs: [{ key: null, index: 0, dataset: output }],
      tags: [],
      namespace: null,
      declaredIn: 'pipelines/bench/pipeline.yaml',
      inferenceAllow: [],
    });
    // What generated code does: pick the inputs out of the record, call the function, name its result.
    compiled[name] = input
      ? { inputs: [input], outputs: [output], run: async (d) => ({ [output]: await fn(d[input] as number) }) }
      : { inputs: [], outputs: [output], run: async () => ({ [output]: await fn(0) }) };
  }
  const ir: ProjectIR = {
    settings: { name: 'bench', root, pipelinesDir: 'pipelines', generatedDir: 'generated', storeDir: '.kiln', mainBranch: 'main', backend: 'cpu', allowedPaths: [], hooks: [], publish: { target: null } },
    datasets: {},
    parameters: { values: {}, locations: {} },
    pipelines: { bench: { name: 'bench', file: 'pipelines/bench/pipeline.yaml', description: '', nodes, model: null } },
  };
  return { ir, module: { pipeline: 'bench', order: nodes.map((x) => x.name), nodes: compiled }, nodes, fns };
}

export function options(c: ReturnType<typeof chain>, over: Partial<RunOptions> = {}): RunOptions {
  return {
    ir: c.ir,
    module: c.module,
    nodes: c.nodes,
    params: {},
    datasetEnv: { root: c.ir.settings.root, allowedPaths: [], saveVersion: '2024-01-01T00.00.00.000Z', recordMetrics() {} },
    run: { runId: 'bench', pipeline: 'bench', projectRoot: c.ir.settings.root, nodes: [], params: {}, command: ['bench'], backend: null },
    reporter: silentReporter,
    ...over,
  };
}

