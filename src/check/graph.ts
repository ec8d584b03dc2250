// Checks on the node graph of each pipeline: names, producers, cycles, parameters, free inputs.
import { diag } from '../diagnostics/diagnostic.ts';
import { didYouMean } from '../diagnostics/didyoumean.ts';
import type { Diagnostic } from '../diagnostics/types.ts';
import { freeInputs } from '../ir/graph.ts';
import { isParam, PARAMS, parameterKeys, parameterValue } from '../ir/parameter-tree.ts';
import type { PipelineIR, ProjectIR } from '../ir/types.ts';

const RESERVED_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

const where = (l?: { file: string; line: number }) => (l ? `${l.file}:${l.line}` : 'another place');

export function checkPipelineGraph(ir: ProjectIR, p: PipelineIR, cycle: string[] | undefined, out: Diagnostic[]): void {
  const names = new Map<string, PipelineIR['nodes'][number]>();
  for (const n of p.nodes) {
    // A node without `name:` is named after its export, which the name pattern did not see.
    if (RESERVED_NAMES.has(n.name)) {
      out.push(diag('KILN2028', { what: 'a node', name: n.name, why: `Node names are keys of the generated node table, where '${n.name}' is a property every JavaScript object already has; add a \`name:\` to the node.` }, n.location));
    }
    const first = names.get(n.name);
    if (first) out.push(diag('KILN2002', { name: n.name, pipeline: p.name, other: where(first.location) }, n.location));
    else names.set(n.name, n);
  }
  const producers = new Map<string, string>();
  for (const n of p.nodes) {
    if (n.inputs.length === 0 && n.outputs.length === 0) out.push(diag('KILN2007', { node: n.name }, n.location));
    const ins = new Set(n.inputs.map((i) => i.dataset));
    for (const o of n.outputs) {
      if (ins.has(o.dataset)) out.push(diag('KILN2008', { dataset: o.dataset, node: n.name }, o.location));
      const first = producers.get(o.dataset);
      if (first !== undefined && first !== n.name) out.push(diag('KILN2003', { dataset: o.dataset, first, second: n.name }, o.location));
      else if (first === undefined) producers.set(o.dataset, n.name);
    }
  }
  if (cycle) {
    const start = p.nodes.find((n) => n.name === cycle[0]);
    out.push(diag('KILN2004', { pipeline: p.name, cycle: cycle.join(' → ') }, start?.location));
  }
  const keys = parameterKeys(ir.parameters.values);
  const topKeys = Object.keys(ir.parameters.values).sort();
  for (const n of p.nodes) {
    for (const i of n.inputs) {
      if (!isParam(i.dataset)) continue;
      const key = i.dataset.slice(PARAMS.length);
      if (parameterValue(ir.parameters.values, key) === undefined) {
        out.push(diag('KILN2001', { key, suggestion: didYouMean(key, keys), known: topKeys.join(', ') || '(none)' }, i.location));
      }
    }
  }
  const undeclared = freeInputs(p.nodes).filter((d) => !ir.datasets[d]);
  if (undeclared.length === 0) return;
  // Built once, not per undeclared input: a pipeline of thousands of nodes can have thousands of them.
  const firstBinding = new Map<string, { binding: PipelineIR['nodes'][number]['inputs'][number]; reader: PipelineIR['nodes'][number] }>();
  for (const n of p.nodes) for (const i of n.inputs) if (!firstBinding.has(i.dataset)) firstBinding.set(i.dataset, { binding: i, reader: n });
  const known = [...Object.keys(ir.datasets), ...p.nodes.flatMap((n) => n.outputs.map((o) => o.dataset))];
  for (const d of undeclared) {
    const first = firstBinding.get(d);
    out.push(diag('KILN2009', { dataset: d, pipeline: p.name, suggestion: didYouMean(d, known) }, first?.binding.location ?? first?.reader.location));
  }
}

export function checkUnusedCatalogEntries(ir: ProjectIR, out: Diagnostic[]): void {
  const used = new Set<string>();
  for (const p of Object.values(ir.pipelines)) for (const n of p.nodes) for (const b of [...n.inputs, ...n.outputs]) used.add(b.dataset);
  for (const d of Object.values(ir.datasets)) {
    if (!used.has(d.name)) out.push(diag('KILN2010', { dataset: d.name }, d.location));
  }
}
