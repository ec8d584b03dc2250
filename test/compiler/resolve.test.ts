// Resolving declarations into the IR: Kedro-style reuse of pipelines under a namespace, graph checks (cycles,
// duplicate producers and names), a deterministic node order, and the model binding of the inference path.
import { describe, expect, it } from 'vitest';
import { analyzeProject } from '../../src/project.ts';
import type { NodeIR } from '../../src/ir/types.ts';
import { memoryHost } from '../helpers/project.ts';

const NODES = 'export function f(...a: unknown[]) { return a; }\nexport function g(...a: unknown[]) { return a; }\n';

async function analyze(files: Record<string, string>) {
  return analyzeProject(memoryHost({ 'kiln.yaml': 'name: t\n', ...files }));
}

const codes = (r: Awaited<ReturnType<typeof analyze>>) => r.diagnostics.map((d) => `${d.code} ${d.message}`);
const brief = (n: NodeIR) => `${n.name}: ${n.inputs.map((b) => b.dataset).join(',')} -> ${n.outputs.map((b) => b.dataset).join(',')}`;

/** A reusable pipeline: prepare reads raw and params:scale, writes clean; summarize reads clean, writes summary. */
const FEATURES = {
  'pipelines/features/pipeline.yaml': [
    'pipeline: features',
    'nodes:',
    '  - name: prepare',
    '    run: ./nodes.ts#f',
    '    inputs: [raw, params:scale, params:opts.k]',
    '    outputs: clean',
    '    tags: [prep]',
    '  - name: summarize',
    '    run: ./nodes.ts#g',
    '    inputs: clean',
    '    outputs: summary',
    '',
  ].join('\n'),
  'pipelines/features/nodes.ts': NODES,
  'pipelines/catalog.yaml': 'raw:\n  type: json\n  path: data/raw.json\n',
  'pipelines/parameters.yaml': 'scale: 1\nopts: {k: 2}\ntrain: {scale: 3, opts: {k: 4}}\nother: {k: 5}\n',
};

function training(reuse: string[]): Record<string, string> {
  return {
    ...FEATURES,
    'pipelines/training/pipeline.yaml': ['pipeline: training', 'nodes:', ...reuse, '  - name: report', '    run: ../features/nodes.ts#f', '    inputs: [train.summary]', '    outputs: report', ''].join('\n'),
  };
}

describe('reuse of a pipeline under a namespace', () => {
  it('prefixes node names, internal datasets and parameters, and keeps remapped names', async () => {
    const r = await analyze(training(['  - pipeline: features', '    namespace: train', '    inputs: { raw: raw }', '    tags: [reused]']));
    expect(codes(r)).toEqual([]);
    const nodes = r.ir!.pipelines.training.nodes;
    expect(nodes.map(brief)).toEqual([
      'train.prepare: raw,params:train.scale,params:train.opts.k -> train.clean',
      'train.summarize: train.clean -> train.summary',
      'report: train.summary -> report',
    ]);
    const prepare = nodes[0];
    expect(prepare.namespace).toBe('train');
    expect(prepare.tags).toEqual(['prep', 'reused']);
    expect(prepare.declaredIn).toBe('pipelines/features/pipeline.yaml');
    expect(prepare.func).toMatchObject({ module: 'pipelines/features/nodes.ts', export: 'f' });
    // Locations still point into the reused pipeline's file, where the node is written.
    expect(prepare.location).toMatchObject({ file: 'pipelines/features/pipeline.yaml', line: 3 });
    expect(prepare.inputs[1].location).toMatchObject({ file: 'pipelines/features/pipeline.yaml', line: 5 });
    // The reused pipeline itself is unchanged.
    expect(r.ir!.pipelines.features.nodes.map(brief)).toEqual(['prepare: raw,params:scale,params:opts.k -> clean', 'summarize: clean -> summary']);
  });

  it('maps outputs and parameters to names of the outer pipeline', async () => {
    const r = await analyze(
      training(['  - pipeline: features', '    namespace: train', '    inputs: { raw: raw }', '    outputs: { clean: train_clean, summary: train.summary }', '    parameters: { scale: other.k, params:opts: other }']),
    );
    expect(codes(r)).toEqual([]);
    expect(r.ir!.pipelines.training.nodes.map(brief)).toEqual([
      'train.prepare: raw,params:other.k,params:other.k -> train_clean',
      'train.summarize: train_clean -> train.summary',
      'report: train.summary -> report',
    ]);
  });

  it('leaves names alone without a namespace', async () => {
    const r = await analyze({ ...FEATURES, 'pipelines/all/pipeline.yaml': 'pipeline: all\nnodes:\n  - pipeline: features\n' });
    expect(r.ir!.pipelines.all.nodes.map(brief)).toEqual(['prepare: raw,params:scale,params:opts.k -> clean', 'summarize: clean -> summary']);
    expect(r.ir!.pipelines.all.nodes[0].namespace).toBeNull();
  });

  it('nests namespaces when a reused pipeline reuses another', async () => {
    const r = await analyze({
      ...FEATURES,
      'pipelines/parameters.yaml': 'outer: {inner: {scale: 1, opts: {k: 2}}}\n',
      'pipelines/catalog.yaml': 'raw:\n  type: json\n  path: data/raw.json\n',
      'pipelines/middle/pipeline.yaml': 'pipeline: middle\nnodes:\n  - pipeline: features\n    namespace: inner\n    inputs: { raw: raw }\n',
      'pipelines/top/pipeline.yaml': 'pipeline: top\nnodes:\n  - pipeline: middle\n    namespace: outer\n    inputs: { raw: raw }\n',
    });
    const top = r.ir!.pipelines.top.nodes;
    expect(top.map(brief)).toEqual(['outer.inner.prepare: raw,params:outer.inner.scale,params:outer.inner.opts.k -> outer.inner.clean', 'outer.inner.summarize: outer.inner.clean -> outer.inner.summary']);
    expect(top.map((n) => n.namespace)).toEqual(['outer.inner', 'outer.inner']);
    // The reused pipelines are checked on their own too (their parameters are not in this file); the top one is fine.
    expect(codes(r).filter((c) => c.startsWith('KILN2001')).sort()).toEqual(["KILN2001 unknown parameter 'params:inner.opts.k'.", "KILN2001 unknown parameter 'params:inner.scale'.", "KILN2001 unknown parameter 'params:opts.k'.", "KILN2001 unknown parameter 'params:scale'."]);
  });

  it('gives a node-level namespace as a prefix too', async () => {
    const r = await analyze({ 'pipelines/p/pipeline.yaml': 'pipeline: p\nnodes:\n  - run: ./nodes.ts#f\n    namespace: a.b\n    outputs: x\n', 'pipelines/p/nodes.ts': NODES });
    expect(r.ir!.pipelines.p.nodes.map((n) => [n.name, n.namespace])).toEqual([['a.b.f', 'a.b']]);
  });

  it.each<[string, string[], string[]]>([
    ['an unknown dataset', ['    inputs: { rwa: raw }'], ["KILN2011 reuse of pipeline 'features' maps 'rwa', which is not a dataset or parameter of that pipeline. did you mean 'raw'?"]],
    ['a parameter under inputs', ['    inputs: { params:scale: raw }'], ["KILN2011 reuse of pipeline 'features' maps 'params:scale', which is not a dataset or parameter of that pipeline."]],
    ['an unknown parameter', ['    parameters: { scal: other.k }'], ["KILN2011 reuse of pipeline 'features' maps 'scal', which is not a dataset or parameter of that pipeline. did you mean 'scale'?"]],
    ['a produced dataset as an input', ['    inputs: { clean: raw }'], ["KILN2012 reuse of pipeline 'features' maps 'clean' as an input, but a node of that pipeline produces it"]],
    ['a free input as an output', ['    outputs: { raw: raw2 }'], ["KILN2013 reuse of pipeline 'features' maps 'raw' as an output, but no node of that pipeline produces it"]],
  ])('refuses a remapping of %s', async (_what, lines, expected) => {
    const r = await analyze(training(['  - pipeline: features', '    namespace: train', ...lines]));
    expect(codes(r).filter((c) => !c.startsWith('KILN2009') && !c.startsWith('KILN2010'))).toEqual(expected);
    expect(r.ok).toBe(false);
  });

  it('locates a remapping error at the key that is wrong', async () => {
    const r = await analyze(training(['  - pipeline: features', '    namespace: train', '    inputs: { raw: raw, clean: raw }']));
    const d = r.diagnostics.find((x) => x.code === 'KILN2012')!;
    expect(d.location).toMatchObject({ file: 'pipelines/training/pipeline.yaml', line: 5, column: 25, endColumn: 30 });
  });

  it('refuses an unknown pipeline and a reuse cycle', async () => {
    const unknown = await analyze(training(['  - pipeline: featurs', '    namespace: train']));
    expect(codes(unknown)).toContain("KILN2014 unknown pipeline 'featurs'. did you mean 'features'?");
    const self = await analyze({ 'pipelines/a/pipeline.yaml': 'pipeline: a\nnodes:\n  - pipeline: a\n    namespace: again\n' });
    expect(codes(self)).toEqual(['KILN2015 pipelines reuse each other in a cycle: a → a']);
  });
});

describe('graph checks', () => {
  const pipeline = (lines: string[]) => ({ 'pipelines/p/pipeline.yaml': ['pipeline: p', 'nodes:', ...lines, ''].join('\n'), 'pipelines/p/nodes.ts': NODES });
  const n = (name: string, inputs: string, outputs: string) => [`  - name: ${name}`, '    run: ./nodes.ts#f', `    inputs: ${inputs}`, `    outputs: ${outputs}`];

  it('prints the cycle and stops short of an order', async () => {
    const r = await analyze(pipeline([...n('a', '[c_out, seed]', 'a_out'), ...n('b', '[a_out]', 'b_out'), ...n('c', '[b_out]', 'c_out'), '  - name: seed_node', '    run: ./nodes.ts#g', '    outputs: seed']));
    expect(codes(r)).toEqual(["KILN2004 pipeline 'p' has a cycle: a → b → c → a"]);
    expect(r.diagnostics[0].location).toMatchObject({ line: 3 });
  });

  it('finds a two-node cycle among acyclic nodes', async () => {
    const r = await analyze(pipeline([...n('z_first', '[y]', 'x'), ...n('y_second', '[x]', 'y'), '  - name: free', '    run: ./nodes.ts#g', '    outputs: w']));
    expect(codes(r)).toEqual(["KILN2004 pipeline 'p' has a cycle: y_second → z_first → y_second"]);
  });

  it('finds a cycle through 6,500 nodes, deeper than the call stack (it was exit 2: Maximum call stack size exceeded)', async () => {
    const size = 6500;
    const lines = Array.from({ length: size }, (_, i) => `  - {name: n${i}, run: ./nodes.ts#f, inputs: d${(i + size - 1) % size}, outputs: d${i}}`);
    const r = await analyze(pipeline(lines));
    expect(r.diagnostics.map((d) => d.code)).toEqual(['KILN2004']);
    const cycle = r.diagnostics[0].message.split(': ')[1].split(' → ');
    expect(cycle).toHaveLength(size + 1);
    expect(cycle[0]).toBe(cycle[size]);
  });

  it('expands a chain of 2,500 pipelines each reusing the next, deeper than the call stack', async () => {
    const files: Record<string, string> = { 'pipelines/last/nodes.ts': NODES };
    for (let i = 0; i < 2500; i++) files[`pipelines/p${i}/pipeline.yaml`] = `pipeline: p${i}\nnodes:\n  - pipeline: p${i + 1}\n`;
    files['pipelines/last/pipeline.yaml'] = 'pipeline: p2500\nnodes:\n  - {name: last, run: ./nodes.ts#g, outputs: out}\n';
    const r = await analyze(files);
    expect(r.diagnostics).toEqual([]);
    expect(r.ir!.pipelines.p0.nodes.map((n) => n.name)).toEqual(['last']);
  });

  it('reports a dataset with two producers at the second one', async () => {
    const r = await analyze(pipeline(['  - name: a', '    run: ./nodes.ts#g', '    outputs: x', '  - name: b', '    run: ./nodes.ts#g', '    outputs: [y, x]']));
    expect(codes(r)).toEqual(["KILN2003 dataset 'x' is produced by two nodes: 'a' and 'b'"]);
    expect(r.diagnostics[0].location).toMatchObject({ line: 8, column: 18 });
  });

  it('reports a duplicate node name, keeping both nodes visible to the checks', async () => {
    const r = await analyze(pipeline(['  - name: a', '    run: ./nodes.ts#g', '    outputs: x', '  - name: a', '    run: ./nodes.ts#g', '    outputs: x']));
    expect(codes(r)).toEqual(["KILN2002 node name 'a' is used twice in pipeline 'p'"]);
    expect(r.diagnostics[0].location).toMatchObject({ line: 6 });
    expect(r.ir!.pipelines.p.nodes).toHaveLength(2);
  });

  it('reports nodes that two reuses without a namespace both bring in', async () => {
    const r = await analyze({ ...FEATURES, 'pipelines/twice/pipeline.yaml': 'pipeline: twice\nnodes:\n  - pipeline: features\n  - pipeline: features\n' });
    expect(codes(r).filter((c) => c.startsWith('KILN2002'))).toEqual(["KILN2002 node name 'prepare' is used twice in pipeline 'twice'", "KILN2002 node name 'summarize' is used twice in pipeline 'twice'"]);
  });

  it('orders nodes the same way whatever order they are declared in', async () => {
    const nodes = [n('load', '[]', 'raw'), n('clean', '[raw]', 'clean'), n('b_feat', '[clean]', 'fb'), n('a_feat', '[clean]', 'fa'), n('join', '[fa, fb]', 'all'), n('aside', '[raw]', 'side')];
    const orders = new Set<string>();
    for (const perm of [[0, 1, 2, 3, 4, 5], [5, 4, 3, 2, 1, 0], [2, 0, 5, 3, 1, 4], [4, 2, 0, 1, 5, 3]]) {
      const r = await analyze(pipeline(perm.flatMap((i) => nodes[i])));
      orders.add(r.ir!.pipelines.p.nodes.map((x) => x.name).join(' '));
    }
    expect([...orders]).toEqual(['load aside clean a_feat b_feat join']);
  });

  it('checks parameters, with suggestions among every dotted key', async () => {
    const r = await analyze({ ...pipeline(n('a', '[params:split.ratoi, params:seed, params:split]', 'x')), 'pipelines/parameters.yaml': 'seed: 1\nsplit: {ratio: 0.2}\n' });
    expect(codes(r)).toEqual(["KILN2001 unknown parameter 'params:split.ratoi'. did you mean 'split.ratio'?"]);
    expect(r.diagnostics[0].hint).toBe('Parameters come from parameters.yaml; add split.ratoi there or fix the reference. Known top-level keys: seed, split.');
  });

  it('does not take inherited properties for parameters', async () => {
    const r = await analyze({ ...pipeline(n('a', '[params:toString, params:seed.valueOf]', 'x')), 'pipelines/parameters.yaml': 'seed: 1\n' });
    expect(codes(r)).toEqual(["KILN2001 unknown parameter 'params:toString'.", "KILN2001 unknown parameter 'params:seed.valueOf'."]);
  });
});

describe('model binding', () => {
  const files = (model: string[], extraCatalog = '') => ({
    'pipelines/catalog.yaml': `train:\n  type: json\n  path: data/train.json\ntest:\n  type: json\n  path: data/test.json\nstats:\n  type: json\n  path: data/stats.json\n${extraCatalog}`,
    'pipelines/parameters.yaml': 'scale: 2\n',
    'pipelines/p/nodes.ts': NODES,
    'pipelines/p/pipeline.yaml': [
      'pipeline: p',
      'nodes:',
      '  - { name: fit, run: ./nodes.ts#f, inputs: [train], outputs: stats }',
      '  - { name: centre, run: ./nodes.ts#f, inputs: [test, stats, params:scale], outputs: centred }',
      '  - { name: score, run: ./nodes.ts#g, inputs: [centred, stats], outputs: scores }',
      '  - { name: evaluate, run: ./nodes.ts#g, inputs: [scores, test], outputs: metrics }',
      'model:',
      ...model,
      '',
    ].join('\n'),
  });

  it('derives the inference nodes, the fitted state and the parameters', async () => {
    const r = await analyze(files(['  name: scorer', '  input: test', '  output: scores']));
    expect(codes(r)).toEqual([]);
    const m = r.ir!.pipelines.p.model!;
    expect(m).toMatchObject({ name: 'scorer', input: 'test', output: 'scores', nodes: ['centre', 'score'], fittedState: ['stats'], parameters: ['params:scale'], gate: null });
    expect(m.location).toMatchObject({ file: 'pipelines/p/pipeline.yaml', line: 8 });
  });

  it('reads the gate thresholds', async () => {
    const r = await analyze(files(['  name: scorer', '  input: test', '  output: scores', '  gate:', '    metrics: { auc: ">= 0.9", loss: "<0.5" }', '    better_than: production']));
    expect(r.ir!.pipelines.p.model!.gate).toMatchObject({ metrics: { auc: { op: '>=', value: 0.9 }, loss: { op: '<', value: 0.5 } }, betterThan: 'production' });
  });

  it.each<[string, string[], string, string[]]>([
    ['an unknown input and output', ['  name: m', '  input: tset', '  output: score'], '', ["KILN2016 model.input 'tset' is not a dataset of pipeline 'p'. did you mean 'test'?", "KILN2016 model.output 'score' is not a dataset of pipeline 'p'. did you mean 'scores'?"]],
    ['an output that does not depend on the input', ['  name: m', '  input: test', '  output: stats'], '', ["KILN2019 model.output 'stats' does not depend on model.input 'test'"]],
  ])('refuses %s', async (_what, model, catalog, expected) => {
    const r = await analyze(files(model, catalog));
    expect(codes(r)).toEqual(expected);
  });

  it('refuses an inference path with more than one output', async () => {
    const r = await analyze({
      ...files(['  name: m', '  input: test', '  output: scores']),
      'pipelines/p/pipeline.yaml': 'pipeline: p\nnodes:\n  - { name: fit, run: ./nodes.ts#f, inputs: [train], outputs: stats }\n  - { name: centre, run: ./nodes.ts#f, inputs: [test, stats], outputs: { a: centred, b: side } }\n  - { name: score, run: ./nodes.ts#g, inputs: [centred], outputs: scores }\nmodel:\n  name: m\n  input: test\n  output: scores\n',
    });
    expect(codes(r)).toEqual(["KILN2017 the inference path from 'test' to 'scores' has more than one output: 'scores', 'side'"]);
  });

  it('refuses fitted state held in memory only', async () => {
    const r = await analyze({ ...files(['  name: m', '  input: test', '  output: scores']), 'pipelines/catalog.yaml': 'train:\n  type: json\n  path: data/train.json\ntest:\n  type: json\n  path: data/test.json\n' });
    expect(codes(r)).toEqual(["KILN2018 the inference path reads 'stats', which is neither model.input, a parameter, nor a persisted output of training", "KILN2018 the inference path reads 'stats', which is neither model.input, a parameter, nor a persisted output of training"]);
    expect(r.diagnostics[0].hint).toMatch(/^It is held in memory only during training/);
    expect(r.diagnostics.map((d) => d.location?.line)).toEqual([4, 5]);
  });

  it('refuses an input that no training node produces', async () => {
    const r = await analyze({ ...files(['  name: m', '  input: test', '  output: scores']), 'pipelines/p/pipeline.yaml': 'pipeline: p\nnodes:\n  - { name: score, run: ./nodes.ts#g, inputs: [test, weights], outputs: scores }\nmodel:\n  name: m\n  input: test\n  output: scores\n' });
    expect(codes(r).filter((c) => c.startsWith('KILN2018'))).toEqual(["KILN2018 the inference path reads 'weights', which is neither model.input, a parameter, nor a persisted output of training"]);
    expect(r.diagnostics.find((d) => d.code === 'KILN2018')!.hint).toMatch(/^No node of pipeline 'p' produces it/);
  });

  it('refuses a gated metric named __proto__ (it would replace the prototype, not add a threshold)', async () => {
    const r = await analyze(files(['  name: m', '  input: test', '  output: scores', '  gate:', '    metrics: { __proto__: ">= 1", auc: ">= 0.5" }']));
    expect(codes(r)).toEqual(["KILN2028 a gated metric must not be named '__proto__'"]);
  });
});

describe('reserved names', () => {
  it.each(['datasets', 'parameters', 'index', 'Index', 'spam.model'])('refuses a pipeline named %s', async (name) => {
    const r = await analyze({ 'pipelines/p/pipeline.yaml': `pipeline: ${name}\nnodes:\n  - run: ./nodes.ts#f\n    outputs: x\n`, 'pipelines/p/nodes.ts': NODES });
    expect(codes(r)).toEqual([`KILN2028 a pipeline must not be named '${name}'`]);
  });

  it.each(['__proto__', 'constructor', 'prototype'])('refuses a node named %s after its export', async (name) => {
    const r = await analyze({ 'pipelines/p/pipeline.yaml': `pipeline: p\nnodes:\n  - run: ./nodes.ts#${name}\n    outputs: x\n`, 'pipelines/p/nodes.ts': `function f() { return 1; }\nexport { f as ${name} };\n` });
    expect(codes(r)).toEqual([`KILN2028 a node must not be named '${name}'`]);
  });
});
