// Run filters, ported from Kedro's tests/pipeline/test_pipeline.py (the nine-node "complex pipeline" and its
// filter tables). kiln reports unknown names and empty selections as diagnostics (KILN2020, KILN2021) where Kedro
// raises ValueError; the few places where kiln's answer differs from Kedro's are marked.
import { describe, expect, it } from 'vitest';
import { filterNodes, describeFilter, isEmptyFilter, type NodeFilter } from '../../src/ir/filter.ts';
import { buildGraph, topologicalOrder } from '../../src/ir/graph.ts';
import { isKilnError } from '../../src/diagnostics/diagnostic.ts';
import type { BindingIR, NodeIR } from '../../src/ir/types.ts';

function bindings(datasets: string | string[] | null): BindingIR[] {
  const list = datasets === null ? [] : Array.isArray(datasets) ? datasets : [datasets];
  return list.map((dataset, index) => ({ key: null, index, dataset }));
}

/** Kedro's node(func, inputs, outputs, name=, tags=, namespace=), as kiln's IR. */
function node(name: string, inputs: string | string[] | null, outputs: string | string[] | null, opts: { tags?: string[]; namespace?: string } = {}): NodeIR {
  const ins = bindings(inputs);
  const outs = bindings(outputs);
  return {
    name: opts.namespace ? `${opts.namespace}.${name}` : name,
    func: { module: 'pipelines/p/nodes.ts', export: 'identity' },
    inputForm: ins.length ? 'list' : 'none',
    inputs: ins,
    outputForm: outs.length ? 'list' : 'none',
    outputs: outs,
    tags: [...(opts.tags ?? [])].sort(),
    namespace: opts.namespace ?? null,
    declaredIn: 'pipelines/p/pipeline.yaml',
    inferenceAllow: [],
  };
}

/** pipeline_list_with_lists: the "complex pipeline" of Kedro's filter tests. */
const complex = [
  node('node1', ['H', 'I', 'M'], 'N'),
  node('node2', 'H', 'I'),
  node('node3', 'F', ['G', 'M']),
  node('node4', 'E', ['F', 'H']),
  node('node5', 'D', null),
  node('node6', 'C', 'D', { tags: ['foo'] }),
  node('node7', 'B', ['C', 'E'], { tags: ['foo'] }),
  node('node8', 'A', ['B', 'L']),
  node('node9', null, 'A'),
];

/** nodes_with_tags */
const tagged = [
  node('node1', 'E', null),
  node('node2', 'D', 'E', { tags: ['tag1', 'tag2'] }),
  node('node3', 'C', 'D'),
  node('node4', 'A', 'B', { tags: ['tag2'] }),
  node('node5', 'B', 'C'),
  node('node6', null, 'A', { tags: ['tag1'] }),
];

/** pipeline_with_namespaces */
const namespaced = [
  node('node1', 'A', 'B', { namespace: 'katie' }),
  node('node2', 'B', 'C', { namespace: 'lisa' }),
  node('node3', 'C', 'D', { namespace: 'john' }),
  node('node4', 'D', 'E', { namespace: 'katie.lisa' }),
  node('node5', 'E', 'F', { namespace: 'lisa.john' }),
  node('node6', 'F', 'G', { namespace: 'katie.lisa.john' }),
];

const names = (nodes: readonly NodeIR[], filter: NodeFilter) => filterNodes(nodes, filter).map((n) => n.name).sort();

function failure(nodes: readonly NodeIR[], filter: NodeFilter): string[] {
  try {
    filterNodes(nodes, filter);
  } catch (e) {
    if (isKilnError(e)) return e.diagnostics.map((d) => `${d.code} ${d.message}`);
    throw e;
  }
  throw new Error('expected the filter to fail');
}

describe('the complex pipeline', () => {
  it('has the node dependencies of Kedro test_node_dependencies', () => {
    const { parents } = buildGraph(complex);
    const actual = Object.fromEntries([...parents.entries()].map(([n, p]) => [n, [...p].sort()]));
    expect(actual).toEqual({
      node1: ['node2', 'node3', 'node4'],
      node2: ['node4'],
      node3: ['node4'],
      node4: ['node7'],
      node5: ['node6'],
      node6: ['node7'],
      node7: ['node8'],
      node8: ['node9'],
      node9: [],
    });
  });

  it('orders the nodes deterministically, respecting Kedro grouped_nodes (ready nodes taken by name)', () => {
    const order = topologicalOrder([...complex].reverse()).order.map((n) => n.name);
    expect(order).toEqual(['node9', 'node8', 'node7', 'node4', 'node2', 'node3', 'node1', 'node6', 'node5']);
    expect(topologicalOrder(complex).order.map((n) => n.name)).toEqual(order);
    // Kedro's groups: each node comes after every node of the groups before it.
    const groups = [['node9'], ['node8'], ['node7'], ['node6', 'node4'], ['node5', 'node2', 'node3'], ['node1']];
    const position = new Map(order.map((n, i) => [n, i]));
    for (let g = 1; g < groups.length; g++) for (const later of groups[g]) for (const earlier of groups[g - 1]) {
      const { parents } = buildGraph(complex);
      if (parents.get(later)!.has(earlier)) expect(position.get(earlier)!).toBeLessThan(position.get(later)!);
    }
  });
});

describe('filterNodes (Kedro TestPipelineFilter)', () => {
  it.each<[string, NodeFilter, string[]]>([
    ['no filter', {}, ['node1', 'node2', 'node3', 'node4', 'node5', 'node6', 'node7', 'node8', 'node9']],
    ['tags', { tags: ['foo'] }, ['node6', 'node7']],
    ['from_nodes', { fromNodes: ['node4'] }, ['node1', 'node2', 'node3', 'node4']],
    ['to_nodes', { toNodes: ['node4'] }, ['node4', 'node7', 'node8', 'node9']],
    ['node_names', { nodes: ['node4', 'node5'] }, ['node4', 'node5']],
    ['from_inputs', { fromInputs: ['F'] }, ['node1', 'node3']],
    ['to_outputs', { toOutputs: ['F'] }, ['node4', 'node7', 'node8', 'node9']],
    ['two filters (intersection)', { fromNodes: ['node4'], toOutputs: ['M'] }, ['node3', 'node4']],
    ['three filters (intersection)', { fromNodes: ['node4'], toOutputs: ['M'], nodes: ['node3'] }, ['node3']],
  ])('%s', (_what, filter, expected) => {
    expect(names(complex, filter)).toEqual(expected);
  });

  it('selects nothing with four filters: KILN2021 names the filters', () => {
    expect(failure(complex, { fromNodes: ['node4'], toOutputs: ['M'], nodes: ['node3'], toNodes: ['node4'] })).toEqual([
      'KILN2021 the run filter selects no nodes: --nodes node3 --from-nodes node4 --to-nodes node4 --to-outputs M',
    ]);
  });

  it('keeps the pipeline order in the selection', () => {
    expect(filterNodes(complex, { fromNodes: ['node4'] }).map((n) => n.name)).toEqual(['node4', 'node2', 'node3', 'node1']);
  });

  it('filters by namespace, below it included', () => {
    expect(names(namespaced, { namespaces: ['katie'] })).toEqual(['katie.lisa.john.node6', 'katie.lisa.node4', 'katie.node1']);
  });
});

describe('filterNodes (Kedro TestPipelineFilterHelpers)', () => {
  it.each<[string[], string[]]>([
    [['tag1'], ['node2', 'node6']],
    [['tag2'], ['node2', 'node4']],
    [['tag2', 'tag1'], ['node2', 'node4', 'node6']],
  ])('only_nodes_with_tags %j', (tags, expected) => {
    expect(names(tagged, { tags })).toEqual(expected);
  });

  it('only_nodes_with_tags ignores a tag no node has, as Kedro does; selecting nothing at all is the error', () => {
    expect(names(tagged, { tags: ['tag1', 'tag2', 'tag-missing'] })).toEqual(['node2', 'node4', 'node6']);
    expect(failure(tagged, { tags: ['tag-missing'] })).toEqual(['KILN2021 the run filter selects no nodes: --tags tag-missing', "KILN2040 no node has tag 'tag-missing', so --tags selected nothing for it."]);
    // The empty selection explains a typo.
    expect(failure(tagged, { tags: ['tag'], nodes: ['node1'] })).toEqual(['KILN2021 the run filter selects no nodes: --nodes node1 --tags tag', "KILN2040 no node has tag 'tag', so --tags selected nothing for it. did you mean 'tag1' or 'tag2'?"]);
  });

  it('from_inputs accepts a parameter, as Kedro does: its readers and everything downstream', () => {
    const withParams = [node('a', ['X', 'params:rate'], 'Y'), node('b', 'Y', 'Z'), node('c', ['W', 'params:other'], 'V')];
    expect(names(withParams, { fromInputs: ['params:rate'] })).toEqual(['a', 'b']);
    expect(names(withParams, { fromInputs: ['params:rate', 'W'] })).toEqual(['a', 'b', 'c']);
    expect(failure(withParams, { fromInputs: ['params:missing'] })).toEqual(["KILN2020 unknown dataset 'params:missing' in the run filter."]);
  });

  it('to_outputs accepts a parameter, as Kedro does: no node produces it, so it adds no node', () => {
    const withParams = [node('a', ['X', 'params:rate'], 'Y'), node('b', 'Y', 'Z'), node('c', ['W', 'params:other'], 'V')];
    expect(names(withParams, { toOutputs: ['params:rate', 'Y'] })).toEqual(['a']);
    expect(failure(withParams, { toOutputs: ['params:rate'] })).toEqual(['KILN2021 the run filter selects no nodes: --to-outputs params:rate']);
  });

  it('only_nodes_with_tags with no tags is no filter in kiln (Kedro returns no nodes)', () => {
    expect(names(tagged, { tags: [] })).toHaveLength(6);
    expect(isEmptyFilter({ tags: [] })).toBe(true);
    expect(isEmptyFilter({ tags: ['x'] })).toBe(false);
  });

  it.each<[string, NodeFilter, string[]]>([
    ['from_nodes(node3, node2)', { fromNodes: ['node3', 'node2'] }, ['node1', 'node2', 'node3']],
    ['to_nodes(node4, node6)', { toNodes: ['node4', 'node6'] }, ['node4', 'node6', 'node7', 'node8', 'node9']],
    ['only_nodes(node2, node3, node4, node8)', { nodes: ['node2', 'node3', 'node4', 'node8'] }, ['node2', 'node3', 'node4', 'node8']],
    ['only_nodes(node1)', { nodes: ['node1'] }, ['node1']],
    ['from_inputs(F, H)', { fromInputs: ['F', 'H'] }, ['node1', 'node2', 'node3']],
    ['to_outputs(F, H)', { toOutputs: ['F', 'H'] }, ['node4', 'node7', 'node8', 'node9']],
  ])('%s', (_what, filter, expected) => {
    expect(names(complex, filter)).toEqual(expected);
  });

  it.each<[string, NodeFilter, string[]]>([
    ['from_nodes(missing_node)', { fromNodes: ['missing_node'] }, ["KILN2020 unknown node 'missing_node' in the run filter."]],
    ['to_nodes(missing_node)', { toNodes: ['missing_node'] }, ["KILN2020 unknown node 'missing_node' in the run filter."]],
    ['only_nodes(node2, node3, node4, NaN)', { nodes: ['node2', 'node3', 'node4', 'NaN'] }, ["KILN2020 unknown node 'NaN' in the run filter."]],
    ['only_nodes(invalid)', { nodes: ['invalid'] }, ["KILN2020 unknown node 'invalid' in the run filter."]],
    ['only_nodes(node10), close to a known name', { nodes: ['node10'] }, ["KILN2020 unknown node 'node10' in the run filter. did you mean 'node1'?"]],
    ['from_inputs(Z, W, E, C)', { fromInputs: ['Z', 'W', 'E', 'C'] }, ["KILN2020 unknown dataset 'Z' in the run filter.", "KILN2020 unknown dataset 'W' in the run filter."]],
    ['to_outputs(Z, W, E, C)', { toOutputs: ['Z', 'W', 'E', 'C'] }, ["KILN2020 unknown dataset 'Z' in the run filter.", "KILN2020 unknown dataset 'W' in the run filter."]],
  ])('%s fails', (_what, filter, expected) => {
    expect(failure(complex, filter)).toEqual(expected);
  });

  it('lists the known names in the hint', () => {
    try {
      filterNodes(complex, { fromInputs: ['Z'] });
    } catch (e) {
      if (!isKilnError(e)) throw e;
      expect(e.diagnostics[0].hint).toBe('Known datasets: A, B, C, D, E, F, G, H, I, L, M, N.');
    }
    expect.assertions(1);
  });

  it.each(['node1', 'node2', 'node3', 'node4', 'node5', 'node6'])('only_nodes(%s) suggests the namespaced node', (bare) => {
    const full = namespaced.find((n) => n.name.endsWith(`.${bare}`))!.name;
    expect(failure(namespaced, { nodes: [bare] })).toEqual([`KILN2020 unknown node '${bare}' in the run filter. did you mean '${full}'?`]);
  });

  it.each([
    ['node1', 'node2'],
    ['node3', 'node4'],
    ['node5', 'node6'],
  ])('only_nodes(%s, %s) suggests a namespaced node for each', (a, b) => {
    const messages = failure(namespaced, { nodes: [a, b] });
    expect(messages).toHaveLength(2);
    expect(messages[0]).toMatch(new RegExp(`unknown node '${a}' .* did you mean '[a-z.]+\\.${a}'\\?$`));
    expect(messages[1]).toMatch(new RegExp(`unknown node '${b}' .* did you mean '[a-z.]+\\.${b}'\\?$`));
  });

  it.each([
    ['node1', 'invalid_node'],
    ['invalid_node', 'node2'],
  ])('only_nodes(%s, %s) still suggests for the valid bare name', (a, b) => {
    const messages = failure(namespaced, { nodes: [a, b] });
    expect(messages.filter((m) => m.includes('did you mean'))).toHaveLength(1);
    expect(messages.find((m) => m.includes('invalid_node'))).toBe("KILN2020 unknown node 'invalid_node' in the run filter.");
  });

  it.each<[string, string[]]>([
    ['katie', ['katie', 'katie.lisa', 'katie.lisa.john']],
    ['lisa', ['lisa', 'lisa.john']],
    ['john', ['john']],
    ['katie.lisa', ['katie.lisa', 'katie.lisa.john']],
    ['katie.lisa.john', ['katie.lisa.john']],
  ])('only_nodes_with_namespace(%s)', (namespace, expected) => {
    expect(filterNodes(namespaced, { namespaces: [namespace] }).map((n) => n.namespace).sort()).toEqual(expected);
  });

  it.each([['katie'], [undefined]])('only_nodes_with_namespace(non_existent) fails when the node namespace is %s', (ns) => {
    expect(failure([node('identity', 'A', 'B', { namespace: ns })], { namespaces: ['non_existent'] })).toEqual(["KILN2020 unknown namespace 'non_existent' in the run filter."]);
  });

  it('suggests a close namespace', () => {
    expect(failure(namespaced, { namespaces: ['katy'] })).toEqual(["KILN2020 unknown namespace 'katy' in the run filter. did you mean 'katie'?"]);
  });

  it('reports every unknown name of every kind at once', () => {
    expect(failure(complex, { nodes: ['nod1'], tags: ['fo'], toOutputs: ['X'], namespaces: ['ns'] })).toEqual([
      "KILN2020 unknown node 'nod1' in the run filter. did you mean 'node1'?",
      "KILN2020 unknown dataset 'X' in the run filter.",
      "KILN2020 unknown namespace 'ns' in the run filter.",
    ]);
  });
});

describe('describeFilter', () => {
  it('writes the filter as the run flags that make it', () => {
    expect(describeFilter({})).toBe('(no filter)');
    expect(describeFilter({ tags: ['a', 'b'], fromInputs: ['x'], namespaces: [] })).toBe('--from-inputs x --tags a,b');
  });
});

describe('large graphs', () => {
  /** chain: node i reads d(i-1); fanout: every node but the first reads d0. */
  const shape = (kind: 'chain' | 'fanout' | 'cycle', size: number) =>
    Array.from({ length: size }, (_, i) => node(`n${i}`, kind === 'cycle' ? `d${(i + size - 1) % size}` : i === 0 ? null : kind === 'chain' ? `d${i - 1}` : 'd0', `d${i}`));

  it('finds a cycle of 100,000 nodes without running out of call stack', () => {
    const { order, cycle } = topologicalOrder(shape('cycle', 100_000));
    expect(order).toEqual([]);
    expect(cycle).toHaveLength(100_001);
    expect(cycle![0]).toBe('n0');
    expect(cycle![1]).toBe('n1');
    expect(cycle![100_000]).toBe('n0');
  });

  it('filters a fan-out in time linear in its size (it was quadratic: list.includes per reader)', () => {
    const cpu = (nodes: NodeIR[]) => {
      filterNodes(nodes, { nodes: ['n1', 'n2', 'n3'] });
      const samples = [0, 1, 2].map(() => {
        const t0 = process.cpuUsage();
        filterNodes(nodes, { nodes: ['n1', 'n2', 'n3'] });
        const t = process.cpuUsage(t0);
        return t.user + t.system;
      });
      return Math.min(...samples);
    };
    const small = cpu(shape('fanout', 2_000));
    const large = cpu(shape('fanout', 20_000));
    // Ten times the nodes: about ten times the work when linear, a hundred when quadratic.
    expect(large / small).toBeLessThan(30);
  });
});

