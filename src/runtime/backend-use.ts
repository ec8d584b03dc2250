// Whether nodes use TensorFlow.js: then a run sets up a backend, and the backend asked for is part of every
// fingerprint of the pipeline (src/cli/run.ts), which `kiln plan` must know to list a backend change.
import type { NodeIR, ProjectIR } from '../ir/types.ts';

/** A model dataset among the nodes' inputs or outputs, or node code that imports TensorFlow.js or kiln-ml/ml. */
export function nodesUseTensorflow(ir: ProjectIR, nodes: readonly NodeIR[], sources: ReadonlyMap<string, string>): boolean {
  if (nodes.some((n) => [...n.inputs, ...n.outputs].some((b) => ir.datasets[b.dataset]?.type === 'tfjs_model'))) return true;
  return nodes.some((n) => /@tensorflow\/tfjs|kiln-ml\/ml/.test(sources.get(n.func.module) ?? ''));
}
