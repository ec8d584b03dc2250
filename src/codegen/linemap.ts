// Maps lines of generated code back to the YAML that produced them, by reading the structure codegen prints.
import type { SourceLocation } from '../diagnostics/types.ts';
import type { BindingIR, NodeIR, ProjectIR } from '../ir/types.ts';

export type LineOrigin =
  | { kind: 'input'; node: NodeIR; binding: BindingIR }
  | { kind: 'output'; node: NodeIR; binding: BindingIR }
  | { kind: 'call'; node: NodeIR }
  | { kind: 'dataset'; dataset: string; producer?: { node: NodeIR; binding: BindingIR }; location?: SourceLocation }
  | { kind: 'model'; pipeline: string; location?: SourceLocation };

const NODE_START = /^ {2}("(?:[^"\\]|\\.)*"): \{$/;
const INPUT_LINE = /^ {8}(?:"(?:[^"\\]|\\.)*": )?d\[("(?:[^"\\]|\\.)*")\],$/;
const CALL_LINE = /^ {6}const r = await /;
const OUTPUT_LINE = /^ {8}("(?:[^"\\]|\\.)*"): r/;
const DATASET_LINE = /^ {2}("(?:[^"\\]|\\.)*"): .*;$/;
const MODEL_LINE = /^export type (ModelDatasets|InputRecord)/;

/** Origin of every line of a generated pipeline or model module (index = line - 1). */
export function mapPipelineModule(text: string, nodes: readonly NodeIR[], modelLocation?: { pipeline: string; location?: SourceLocation }): Array<LineOrigin | undefined> {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const lines = text.split('\n');
  const out: Array<LineOrigin | undefined> = new Array(lines.length);
  let inTable = false;
  let node: NodeIR | undefined;
  let inputIndex = 0;
  let outputIndex = 0;
  lines.forEach((line, i) => {
    if (line.startsWith('export const nodes = {')) {
      inTable = true;
      return;
    }
    if (modelLocation && MODEL_LINE.test(line)) {
      out[i] = { kind: 'model', ...modelLocation };
      return;
    }
    if (!inTable) return;
    const start = NODE_START.exec(line);
    if (start) {
      node = byName.get(JSON.parse(start[1]) as string);
      inputIndex = 0;
      outputIndex = 0;
      return;
    }
    if (!node) return;
    if (INPUT_LINE.test(line)) {
      const b = node.inputs[inputIndex++];
      if (b) out[i] = { kind: 'input', node, binding: b };
    } else if (CALL_LINE.test(line)) {
      out[i] = { kind: 'call', node };
    } else if (OUTPUT_LINE.test(line)) {
      const b = node.outputs[outputIndex++];
      if (b) out[i] = { kind: 'output', node, binding: b };
    } else if (line.startsWith('    ')) {
      out[i] = { kind: 'call', node };
    }
  });
  return out;
}

/** Origin of every line of generated/datasets.ts. */
export function mapDatasetsModule(text: string, ir: ProjectIR): Array<LineOrigin | undefined> {
  const producers = new Map<string, { node: NodeIR; binding: BindingIR }>();
  for (const p of Object.values(ir.pipelines).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    for (const n of p.nodes) for (const b of n.outputs) if (!producers.has(b.dataset)) producers.set(b.dataset, { node: n, binding: b });
  }
  return text.split('\n').map((line) => {
    const m = DATASET_LINE.exec(line);
    if (!m) return undefined;
    const dataset = JSON.parse(m[1]) as string;
    const producer = producers.get(dataset);
    return producer ? { kind: 'dataset', dataset, producer, location: ir.datasets[dataset]?.location } : { kind: 'dataset', dataset, location: ir.datasets[dataset]?.location };
  });
}
