// The runtime bundled into every artifact: loads the fitted state with the same dataset code training used and runs
// the inference path's nodes, in the order and with the wiring codegen produced for training.
import { createDataset } from '../runtime/datasets/index.ts';
import type { CompiledModelModule } from '../runtime/compiled.ts';
import type { DatasetType, JsonValue } from '../ir/types.ts';

export interface FittedStateEntry {
  type: string;
  path: string;
  sha256: string;
  options?: Record<string, unknown>;
  schema?: Record<string, unknown>;
}

export interface InferenceSpec {
  fitted_state: Record<string, FittedStateEntry>;
  inference_parameters: Record<string, unknown>;
}

export type Infer = (records: unknown[]) => Promise<unknown[]>;

export async function createInference(dir: string, spec: InferenceSpec, module: CompiledModelModule): Promise<Infer> {
  const fixed: Record<string, unknown> = { ...spec.inference_parameters };
  for (const [name, entry] of Object.entries(spec.fitted_state)) {
    const dataset = createDataset(
      { name, type: entry.type as DatasetType, declared: true, path: entry.path, versioned: false, options: (entry.options ?? {}) as Record<string, JsonValue>, ...(entry.schema ? { schemaJson: entry.schema } : {}) },
      { root: dir, allowedPaths: [], saveVersion: 'artifact', recordMetrics() {} },
    );
    fixed[name] = await dataset.load();
  }
  const { input, output, order } = module.model;
  return async (records) => {
    const values: Record<string, unknown> = { ...fixed, [input]: records };
    for (const name of order) {
      const node = module.nodes[name];
      const d: Record<string, unknown> = {};
      for (const i of node.inputs) d[i] = values[i];
      Object.assign(values, await node.run(d));
    }
    const result = values[output];
    if (!Array.isArray(result)) throw new Error(`the inference path returned ${typeof result} for '${output}', not a list aligned with the input records`);
    if (result.length !== records.length) throw new Error(`the inference path returned ${result.length} records for ${records.length} inputs; model.output must be aligned with model.input`);
    return result;
  };
}
