// Kedro's resume hints (tests/runner/test_resume_logic.py): after a failure, the nearest nodes with persisted inputs,
// so that `--from-nodes` re-runs as little as possible and leaves nothing out.
import { describe, expect, it } from 'vitest';
import { nodesForResumedRun, nodesToResumeFrom, resumeHint } from '../../src/runtime/resume.ts';
import type { NodeIR } from '../../src/ir/types.ts';
import { node } from './graph.ts';

const irs = (...nodes: ReturnType<typeof node>[]) => nodes.map((n) => n.ir);

const pipelines: Record<string, NodeIR[]> = {
  // An X shape: two branches with one common node.
  two_branches_crossed_pipeline: irs(
    node('node1_A', ['ds0_A'], ['ds1_A']),
    node('node1_B', ['ds0_B'], ['ds1_B']),
    node('node2', ['ds1_A', 'ds1_B'], ['ds2_A', 'ds2_B']),
    node('node3_A', ['ds2_A'], ['ds3_A']),
    node('node3_B', ['ds2_B'], ['ds3_B']),
    node('node4_A', ['ds3_A'], ['ds4_A']),
    node('node4_B', ['ds3_B'], ['ds4_B']),
  ),
  pipeline_asymmetric: irs(node('node1', ['ds0_A'], ['_ds1']), node('node2', ['ds0_B'], ['_ds2']), node('node3', ['_ds1', '_ds2'], ['_ds3']), node('node4', ['_ds3'], ['_ds4'])),
  pipeline_triangular: irs(node('node1', ['ds0_A'], ['_ds1_A']), node('node2', ['_ds1_A'], ['ds2_A']), node('node3', ['ds2_A', '_ds1_A'], ['_ds3_A'])),
  empty_pipeline: [],
};

// Kedro's persistent_dataset_catalog: everything else is in memory.
const persistent = new Set(['ds0_A', 'ds0_B', 'ds2_A', 'ds2_B']);
const isPersistent = (d: string) => persistent.has(d);
const allPersistent = () => true;

const cases: Array<[string, string[], string[]]> = [
  ['pipeline_asymmetric', ['node2', 'node3', 'node4'], ['node1', 'node2']],
  ['pipeline_asymmetric', ['node3', 'node4'], ['node1', 'node2']],
  ['pipeline_asymmetric', ['node4'], ['node1', 'node2']],
  ['pipeline_asymmetric', [], []],
  ['empty_pipeline', [], []],
  ['pipeline_triangular', ['node3'], ['node1']],
  ['two_branches_crossed_pipeline', ['node1_A', 'node1_B', 'node2', 'node3_A', 'node3_B', 'node4_A', 'node4_B'], ['node1_A', 'node1_B']],
  ['two_branches_crossed_pipeline', ['node2', 'node3_A', 'node3_B', 'node4_A', 'node4_B'], ['node1_A', 'node1_B']],
  ['two_branches_crossed_pipeline', ['node3_A', 'node3_B', 'node4_A', 'node4_B'], ['node3_A', 'node3_B']],
  ['two_branches_crossed_pipeline', ['node4_A', 'node4_B'], ['node3_A', 'node3_B']],
  ['two_branches_crossed_pipeline', ['node4_A'], ['node3_A']],
  ['two_branches_crossed_pipeline', ['node3_A', 'node4_A'], ['node3_A']],
];

/** Kedro's Pipeline.from_nodes: the named nodes and everything downstream of them. */
function fromNodes(nodes: NodeIR[], start: string[]): Set<string> {
  const out = new Set(start);
  let grew = true;
  while (grew) {
    grew = false;
    for (const n of nodes) {
      if (out.has(n.name)) continue;
      const producers = n.inputs.map((i) => nodes.find((m) => m.outputs.some((o) => o.dataset === i.dataset))?.name);
      if (producers.some((p) => p !== undefined && out.has(p))) {
        out.add(n.name);
        grew = true;
      }
    }
  }
  return out;
}

describe('nodesToResumeFrom (Kedro find_nodes_to_resume_from)', () => {
  it.each(cases)('%s, remaining %j → %j', (name, remaining, expected) => {
    expect(nodesToResumeFrom(pipelines[name], new Set(remaining), isPersistent)).toEqual(expected);
  });

  // Kedro's test_suggestion_consistency: from_nodes(suggestion) is exactly what a resumed run needs.
  it.each(cases)('consistency: %s, remaining %j', (name, remaining) => {
    const nodes = pipelines[name];
    const required = nodesForResumedRun(nodes, new Set(remaining), isPersistent);
    const suggested = nodesToResumeFrom(nodes, new Set(remaining), isPersistent);
    expect(fromNodes(nodes, suggested)).toEqual(required);
    // Never leaves out a node that did not run.
    for (const r of remaining) expect(required.has(r)).toBe(true);
  });

  // Kedro's test_all_datasets_persistent: with nothing in memory, exactly the remaining nodes re-run.
  it.each(cases)('all datasets persistent: %s, remaining %j', (name, remaining) => {
    const nodes = pipelines[name];
    const suggested = nodesToResumeFrom(nodes, new Set(remaining), allPersistent);
    expect(fromNodes(nodes, suggested)).toEqual(new Set(remaining));
  });

  it('parameters are neither persisted datasets nor produced by a node', () => {
    const nodes = irs(node('a', ['ds0_A', 'params:x'], ['_m']), node('b', ['_m', 'params:x'], ['ds2_A']));
    expect(nodesToResumeFrom(nodes, new Set(['b']), isPersistent)).toEqual(['a']);
  });
});

describe('resumeHint', () => {
  const crossed = pipelines.two_branches_crossed_pipeline;
  it('says that no nodes ran when nothing finished', () => {
    expect(resumeHint(crossed, new Set(), isPersistent)).toBe('No nodes ran. Repeat the previous command to attempt a new run.');
  });

  it('names the nodes to resume from and counts the ones that did not run', () => {
    const hint = resumeHint(crossed, new Set(['node1_A', 'node1_B', 'node2', 'node3_A', 'node3_B']), isPersistent);
    expect(hint).toContain('There are 2 nodes that did not run.');
    expect(hint).toContain('--from-nodes "node3_A,node3_B"');
    expect(resumeHint(crossed, new Set(['node1_A', 'node1_B', 'node2', 'node3_A', 'node3_B', 'node4_A']), isPersistent)).toContain('There is 1 node that did not run.');
  });

  it('is a complete command: the previous one with its --from-nodes replaced, not added to (repeated flags merge)', () => {
    const done = new Set(['node1_A', 'node1_B', 'node2', 'node3_A', 'node3_B']);
    const previous = ['kiln', 'run', 'p', '--from-nodes', 'node1_A,node1_B', '--params', "note=it's", '--from-nodes=node2', '--no-cache'];
    const hint = resumeHint(crossed, done, isPersistent, previous);
    expect(hint.split('\n')[1]).toBe(`  kiln run p --params 'note=it'\\''s' --no-cache --from-nodes "node3_A,node3_B"`);
    expect(hint).not.toContain('node1_A');
  });
});
