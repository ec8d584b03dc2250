// What publish counts as a departure from the committed declarations, given the run record and the IR at HEAD.
import { describe, expect, it } from 'vitest';
import { overridesOf } from '../../src/gitops/overrides.ts';
import type { PipelineIR, ProjectIR } from '../../src/ir/types.ts';
import type { NodeExecution, RunInvocation, RunRecord } from '../../src/tracking/store.ts';

const ir = (backend = 'auto') => ({ parameters: { values: { seed: 7, train: { epochs: 60, rate: 0.1 } }, locations: {} }, settings: { backend } }) as unknown as ProjectIR;
const pipeline = { name: 'spam', nodes: ['split', 'fit', 'train', 'evaluate'].map((name) => ({ name })) } as unknown as PipelineIR;
const clean: RunInvocation = { params: {}, loadVersions: {}, filter: {}, backend: null, cache: true };
const node = (name: string, status: NodeExecution['status'] = 'FINISHED', cacheHit = false) => ({ node: name, status, cacheHit }) as NodeExecution;
const allNodes = () => pipeline.nodes.map((n) => node(n.name));

function run(over: { params?: Record<string, unknown>; invocation?: Partial<RunInvocation> | null; nodes?: NodeExecution[] }): RunRecord {
  return {
    params: { seed: 7, 'train.epochs': 60, 'train.rate': 0.1, ...over.params },
    invocation: over.invocation === null ? null : { ...clean, ...over.invocation },
    nodes: over.nodes ?? allNodes(),
  } as unknown as RunRecord;
}

describe('overridesOf', () => {
  const cases: Array<{ name: string; run: RunRecord; backend?: string; want: string[] }> = [
    { name: 'a full run of the committed declarations', run: run({}), want: [] },
    { name: '--no-cache, nodes restored from the cache, an override equal to the committed value', run: run({ invocation: { cache: false, params: { seed: 7 } }, nodes: pipeline.nodes.map((n) => node(n.name, 'FINISHED', true)) }), want: [] },
    { name: '--params', run: run({ params: { 'train.epochs': 40 }, invocation: { params: { 'train.epochs': 40 } } }), want: ['--params train.epochs=40 (parameters.yaml: 60)'] },
    { name: 'parameters that differ without an override (changed through the API)', run: run({ params: { 'train.rate': 0.2, extra: 'x' } }), want: ['parameters extra="x" (parameters.yaml: (none)), train.rate=0.2 (parameters.yaml: 0.1)'] },
    { name: '--load-version pins', run: run({ invocation: { loadVersions: { raw_emails: '2026-01-01T00.00.00.000Z' } } }), want: ['--load-version raw_emails:2026-01-01T00.00.00.000Z'] },
    { name: 'a node filter that left nodes out', run: run({ invocation: { filter: { toNodes: ['train'] } }, nodes: allNodes().slice(0, 3) }), want: ['--to-nodes train: evaluate did not run'] },
    { name: 'a node filter that selected every node', run: run({ invocation: { filter: { tags: ['all'] } } }), want: [] },
    { name: 'a node that did not finish', run: run({ nodes: [...allNodes().slice(0, 3), node('evaluate', 'FAILED')] }), want: ['a part of the pipeline: evaluate did not run'] },
    { name: '--backend other than kiln.yaml', run: run({ invocation: { backend: 'cpu' } }), want: ['--backend cpu (kiln.yaml: auto)'] },
    { name: '--backend as kiln.yaml says', run: run({ invocation: { backend: 'cpu' } }), backend: 'cpu', want: [] },
    { name: 'a run recorded before invocations were kept', run: run({ invocation: null }), want: ['unknown options: the run was recorded before kiln kept the options a run was started with'] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(overridesOf(c.run, ir(c.backend), pipeline)).toEqual(c.want);
    });
  }
});
