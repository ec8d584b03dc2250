// The model binding (DESIGN §5): the inference path is the subgraph between model.input and model.output.
import { diag } from '../diagnostics/diagnostic.ts';
import { didYouMean } from '../diagnostics/didyoumean.ts';
import type { Diagnostic } from '../diagnostics/types.ts';
import { locate, locateKey } from '../config/yaml.ts';
import { buildGraph, reachable } from './graph.ts';
import { isParam, type PipelineDecl } from './pipelines.ts';
import { schemaRelativeTo } from './resolve.ts';
import type { DatasetIR, ModelBindingIR, ModelGateIR, PipelineIR } from './types.ts';

const GATE = /^\s*(>=|<=|==|!=|>|<)\s*(\S+)\s*$/;

export function resolveModel(decl: PipelineDecl, pipeline: PipelineIR, datasets: Record<string, DatasetIR>, sources: ReadonlyMap<string, string>, diagnostics: Diagnostic[]): ModelBindingIR | null {
  const raw = decl.raw.model!;
  const f = decl.file;
  const nodes = pipeline.nodes;
  const graph = buildGraph(nodes);
  const known = new Set(nodes.flatMap((n) => [...n.inputs, ...n.outputs].map((b) => b.dataset)).filter((d) => !isParam(d)));
  let ok = true;
  for (const field of ['input', 'output'] as const) {
    if (!known.has(raw[field])) {
      diagnostics.push(diag('KILN2016', { field, dataset: raw[field], pipeline: pipeline.name, suggestion: didYouMean(raw[field], known) }, locate(f, `/model/${field}`)));
      ok = false;
    }
  }
  if (!ok) return null;

  // Nodes downstream of the input (through data) that the output depends on.
  const downstream = reachable(graph.consumers.get(raw.input) ?? [], graph.children);
  const producer = graph.producer.get(raw.output);
  const upstream = reachable(producer === undefined ? [] : [producer], graph.parents);
  const sub = nodes.filter((n) => downstream.has(n.name) && upstream.has(n.name));
  if (sub.length === 0 || !sub.some((n) => n.outputs.some((o) => o.dataset === raw.output))) {
    diagnostics.push(diag('KILN2019', { input: raw.input, output: raw.output }, locate(f, '/model/output')));
    return null;
  }
  const inSub = new Set(sub.map((n) => n.name));
  const producedInSub = new Set(sub.flatMap((n) => n.outputs.map((o) => o.dataset)));
  const consumedInSub = new Set(sub.flatMap((n) => n.inputs.map((i) => i.dataset)));
  const outputs = [...producedInSub].filter((d) => !consumedInSub.has(d) || d === raw.output).sort();
  if (outputs.length !== 1) {
    diagnostics.push(diag('KILN2017', { input: raw.input, output: raw.output, outputs: outputs.map((o) => `'${o}'`).join(', ') }, locate(f, '/model')));
    ok = false;
  }
  const fittedState = new Set<string>();
  const parameters = new Set<string>();
  for (const n of sub) {
    for (const i of n.inputs) {
      if (i.dataset === raw.input || producedInSub.has(i.dataset)) continue;
      if (isParam(i.dataset)) {
        parameters.add(i.dataset);
        continue;
      }
      const entry = datasets[i.dataset];
      const p = graph.producer.get(i.dataset);
      const trainingOutput = p !== undefined && !inSub.has(p);
      const persisted = entry !== undefined && entry.type !== 'memory' && entry.type !== 'metrics';
      if (trainingOutput && persisted) {
        fittedState.add(i.dataset);
        continue;
      }
      const reason = !trainingOutput
        ? `No node of pipeline '${pipeline.name}' produces it, so no training run can provide it.`
        : `It is held in memory only during training, so the artifact could not carry it.`;
      diagnostics.push(diag('KILN2018', { dataset: i.dataset, reason }, i.location ?? n.location));
      ok = false;
    }
  }
  const schema = (field: 'input_schema' | 'output_schema', dataset: string): { rel?: string; json?: Record<string, unknown> } => {
    const ref = raw[field];
    if (ref !== undefined) {
      const r = schemaRelativeTo(f.file, ref, sources);
      if (typeof r === 'string') {
        diagnostics.push(diag('KILN1012', { path: ref, dataset: `model.${field}`, reason: r }, locate(f, `/model/${field}`)));
        ok = false;
        return {};
      }
      return { rel: r.rel, json: r.json };
    }
    const entry = datasets[dataset];
    return entry?.schemaJson ? { rel: entry.schema, json: entry.schemaJson } : {};
  };
  const input = schema('input_schema', raw.input);
  const output = schema('output_schema', raw.output);
  const gate = resolveGate(decl, diagnostics);
  if (!ok) return null;
  const binding: ModelBindingIR = {
    name: raw.name,
    input: raw.input,
    output: raw.output,
    nodes: sub.map((n) => n.name),
    fittedState: [...fittedState].sort(),
    parameters: [...parameters].sort(),
    gate,
    location: locate(f, '/model'),
  };
  if (input.rel) binding.inputSchema = input.rel;
  if (input.json) binding.inputSchemaJson = input.json;
  if (output.rel) binding.outputSchema = output.rel;
  if (output.json) binding.outputSchemaJson = output.json;
  return binding;
}

function resolveGate(decl: PipelineDecl, diagnostics: Diagnostic[]): ModelGateIR | null {
  const raw = decl.raw.model?.gate;
  if (!raw) return null;
  const metrics: ModelGateIR['metrics'] = {};
  for (const [name, text] of Object.entries(raw.metrics ?? {})) {
    const m = GATE.exec(text)!;
    const value = Number(m[2]);
    const at = locate(decl.file, `/model/gate/metrics/${name}`);
    if (name === '__proto__' || name === 'constructor' || name === 'prototype') {
      // metrics[name] = ... would replace the object's prototype (__proto__) instead of adding a threshold.
      diagnostics.push(diag('KILN2028', { what: 'a gated metric', name, why: `'${name}' is a property every JavaScript object already has, so the threshold would be lost; record the metric under another name.` }, locateKey(decl.file, `/model/gate/metrics/${name}`)));
      continue;
    }
    if (!Number.isFinite(value)) {
      diagnostics.push(diag('KILN1008', { what: `gate threshold of '${name}'`, problem: `has no valid number: ${JSON.stringify(text)}`, fix: 'Write an operator and a number, e.g. ">= 0.98".' }, at));
      continue;
    }
    metrics[name] = { op: m[1] as ModelGateIR['metrics'][string]['op'], value, location: at };
  }
  return { metrics, betterThan: raw.better_than ?? null, location: locate(decl.file, '/model/gate') };
}
