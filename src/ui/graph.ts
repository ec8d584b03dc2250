// The pipeline graph as the UI draws it: plain JSON made from the IR (nodes, datasets, parameters, the model's
// inference subgraph), so that the live app and the static export show the same thing.
import type { DatasetIR, JsonValue, NodeIR, PipelineIR, ProjectIR } from '../ir/types.ts';
import type { SourceLocation } from '../diagnostics/types.ts';
import { flattenParams } from '../tracking/params.ts';

export interface UiPlace {
  file: string;
  line: number;
  column: number;
}

export interface UiBinding {
  /** Argument name (map form) or position (list and single form). */
  key: string;
  /** Dataset name, or `params:a.b`. */
  dataset: string;
}

export interface UiNode {
  name: string;
  namespace: string | null;
  tags: string[];
  /** `module#export`, as the declaration writes it. */
  func: string;
  /** Where the function is (its export in the module, function-place.ts), else where the node's `run:` is. */
  place: UiPlace | null;
  declaredIn: string;
  inputs: UiBinding[];
  outputs: UiBinding[];
}

export interface UiDataset {
  name: string;
  type: string;
  declared: boolean;
  path: string | null;
  versioned: boolean;
  schema: string | null;
  schemaJson: Record<string, unknown> | null;
  description: string | null;
}

export interface UiModel {
  name: string;
  input: string;
  output: string;
  /** The inference subgraph's nodes (between model.input and model.output). */
  nodes: string[];
  fittedState: string[];
  gate: Record<string, string>;
}

export interface UiPipeline {
  name: string;
  file: string;
  description: string;
  nodes: UiNode[];
  model: UiModel | null;
}

export interface UiGraph {
  project: string;
  pipelines: UiPipeline[];
  datasets: Record<string, UiDataset>;
  /** Parameters flattened to dotted keys (`split.test_ratio`). */
  parameters: Record<string, JsonValue>;
}

const place = (l: SourceLocation | undefined): UiPlace | null => (l ? { file: l.file, line: l.line, column: l.column } : null);

const binding = (b: NodeIR['inputs'][number]): UiBinding => ({ key: b.key ?? String(b.index), dataset: b.dataset });

function node(n: NodeIR): UiNode {
  return {
    name: n.name,
    namespace: n.namespace,
    tags: [...n.tags],
    func: `${n.func.module}#${n.func.export}`,
    place: place(n.func.location) ?? place(n.location),
    declaredIn: n.declaredIn,
    inputs: n.inputs.map(binding),
    outputs: n.outputs.map(binding),
  };
}

function pipeline(p: PipelineIR): UiPipeline {
  const m = p.model;
  return {
    name: p.name,
    file: p.file,
    description: p.description,
    nodes: p.nodes.map(node),
    model: m
      ? { name: m.name, input: m.input, output: m.output, nodes: [...m.nodes], fittedState: [...m.fittedState], gate: Object.fromEntries(Object.entries(m.gate?.metrics ?? {}).map(([k, g]) => [k, `${g.op} ${g.value}`])) }
      : null,
  };
}

function dataset(d: DatasetIR): UiDataset {
  return {
    name: d.name,
    type: d.type,
    declared: d.declared,
    path: d.path ?? null,
    versioned: d.versioned,
    schema: d.schema ?? null,
    schemaJson: d.schemaJson ?? null,
    description: d.description ?? null,
  };
}

export function uiGraph(ir: ProjectIR): UiGraph {
  const names = Object.keys(ir.pipelines).sort();
  return {
    project: ir.settings.name,
    pipelines: names.map((n) => pipeline(ir.pipelines[n])),
    datasets: Object.fromEntries(Object.keys(ir.datasets).sort().map((n) => [n, dataset(ir.datasets[n])])),
    parameters: flattenParams(ir.parameters.values),
  };
}
