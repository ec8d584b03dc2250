// Pipeline files → nodes, with reuse of pipelines under a namespace expanded (Kedro's pipeline() semantics).
import { diag } from '../diagnostics/diagnostic.ts';
import { didYouMean } from '../diagnostics/didyoumean.ts';
import type { Diagnostic, SourceLocation } from '../diagnostics/types.ts';
import type { LoadedFile } from '../config/load.ts';
import { joinRel } from '../config/load.ts';
import { locate, locateKey } from '../config/yaml.ts';
import type { BindingForm, BindingIR, NodeDeployment, NodeIR } from './types.ts';
import type { NodeDeclaration, PipelineDeclaration, PipelineReuse } from '../types/pipeline.ts';

// The shapes of a validated pipeline file, generated from schema/pipeline.schema.json (npm run gen:types).
type RawBindings = NodeDeclaration['inputs'];
type RawNode = NodeDeclaration;
type RawReuse = PipelineReuse;
export type RawPipeline = PipelineDeclaration;

export interface PipelineDecl {
  name: string;
  file: LoadedFile;
  raw: RawPipeline;
}

import { isParam, PARAMS } from './parameter-tree.ts';
export { isParam, PARAMS };

function bindings(f: LoadedFile, pointer: string, raw: RawBindings): { form: BindingForm; list: BindingIR[] } {
  if (raw === undefined) return { form: 'none', list: [] };
  if (typeof raw === 'string') return { form: 'single', list: [{ key: null, index: 0, dataset: raw, location: locate(f, pointer) }] };
  if (Array.isArray(raw)) return { form: 'list', list: raw.map((dataset, index) => ({ key: null, index, dataset, location: locate(f, `${pointer}/${index}`) })) };
  return { form: 'map', list: Object.entries(raw).map(([key, dataset], index) => ({ key, index, dataset, location: locate(f, `${pointer}/${key}`) })) };
}

function declaredNode(decl: PipelineDecl, index: number, raw: RawNode): NodeIR {
  const f = decl.file;
  const ptr = `/nodes/${index}`;
  const [modulePath, exportName] = raw.run.split('#');
  const module = joinRel(f.file, modulePath);
  const ins = bindings(f, `${ptr}/inputs`, raw.inputs);
  const outs = bindings(f, `${ptr}/outputs`, raw.outputs);
  const base = raw.name ?? exportName;
  const name = raw.namespace ? `${raw.namespace}.${base}` : base;
  return {
    name,
    func: { module, export: exportName, location: locate(f, `${ptr}/run`) },
    inputForm: ins.form,
    inputs: ins.list,
    outputForm: outs.form,
    outputs: outs.list,
    tags: [...new Set(raw.tags ?? [])].sort(),
    namespace: raw.namespace ?? null,
    declaredIn: f.file,
    location: raw.name !== undefined ? locate(f, `${ptr}/name`) : locate(f, ptr),
    inferenceAllow: [...new Set(raw.inference?.allow ?? [])].sort(),
    ...deployment(f, ptr, raw),
  };
}

/** The cluster hints of a node, only those declared (a node without any carries no `deploy`). */
function deployment(f: LoadedFile, ptr: string, raw: RawNode): { deploy?: NodeDeployment } {
  const d: NodeDeployment = {};
  if (raw.pod !== undefined) d.pod = { group: raw.pod, location: locate(f, `${ptr}/pod`) };
  if (raw.resources && Object.keys(raw.resources).length) d.resources = { ...raw.resources };
  if (raw.retries !== undefined) d.retries = raw.retries;
  if (raw.timeout !== undefined) d.timeoutSeconds = durationSeconds(raw.timeout);
  return Object.keys(d).length ? { deploy: d } : {};
}

/** Seconds in a duration the schema let through: 90s, 30m, 1h30m. */
function durationSeconds(text: string): number {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text)!;
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

/**
 * Expands every pipeline's nodes, a reused pipeline before the one reusing it, with cycle detection. The walk keeps
 * its own stack of pipelines being expanded: a chain of reuses is as deep as the project makes it.
 */
export function expandPipelines(decls: Map<string, PipelineDecl>, diagnostics: Diagnostic[]): Map<string, NodeIR[]> {
  const done = new Map<string, NodeIR[]>();
  interface Frame { name: string; decl: PipelineDecl; nodes: NodeIR[]; index: number }
  const open = (name: string): Frame => ({ name, decl: decls.get(name)!, nodes: [], index: 0 });
  for (const root of [...decls.keys()].sort()) {
    if (done.has(root)) continue;
    const stack: Frame[] = [open(root)];
    const onStack = new Map<string, number>([[root, 0]]);
    while (stack.length) {
      const f = stack[stack.length - 1];
      if (f.index === f.decl.raw.nodes.length) {
        done.set(f.name, f.nodes);
        onStack.delete(f.name);
        stack.pop();
        continue;
      }
      const index = f.index;
      const item = f.decl.raw.nodes[index];
      if (!('pipeline' in item && typeof item.pipeline === 'string')) {
        f.nodes.push(declaredNode(f.decl, index, item as RawNode));
        f.index++;
        continue;
      }
      const reuse = item as RawReuse;
      const at = locate(f.decl.file, `/nodes/${index}/pipeline`);
      if (!decls.has(reuse.pipeline)) {
        diagnostics.push(diag('KILN2014', { name: reuse.pipeline, suggestion: didYouMean(reuse.pipeline, decls.keys()), known: [...decls.keys()].sort().join(', ') }, at));
        f.index++;
        continue;
      }
      const depth = onStack.get(reuse.pipeline);
      if (depth !== undefined) {
        // The pipelines from the reused one down to this one, then the reused one again.
        const cycle = [...stack.slice(depth).map((x) => x.name), reuse.pipeline];
        diagnostics.push(diag('KILN2015', { cycle: cycle.join(' → ') }, at));
        f.index++;
        continue;
      }
      const inner = done.get(reuse.pipeline);
      if (inner === undefined) {
        // Expand the reused pipeline first; this item is taken again once it is done.
        onStack.set(reuse.pipeline, stack.length);
        stack.push(open(reuse.pipeline));
        continue;
      }
      f.nodes.push(...applyReuse(f.decl.file, index, reuse, inner, diagnostics));
      f.index++;
    }
  }
  return done;
}

/** Kedro's pipeline(pipe, inputs, outputs, parameters, namespace): rename datasets, parameters and nodes. */
function applyReuse(f: LoadedFile, index: number, reuse: RawReuse, inner: NodeIR[], diagnostics: Diagnostic[]): NodeIR[] {
  const ptr = `/nodes/${index}`;
  const produced = new Set(inner.flatMap((n) => n.outputs.map((b) => b.dataset)));
  const consumed = new Set(inner.flatMap((n) => n.inputs.map((b) => b.dataset)).filter((d) => !isParam(d)));
  const all = new Set([...produced, ...consumed]);
  const params = new Set(inner.flatMap((n) => n.inputs.map((b) => b.dataset)).filter(isParam).map((d) => d.slice(PARAMS.length)));
  const ns = reuse.namespace ?? null;
  let ok = true;
  const check = (field: 'inputs' | 'outputs' | 'parameters', map: Record<string, string> | undefined) => {
    for (const key of Object.keys(map ?? {})) {
      const at = locateKey(f, `${ptr}/${field}/${key}`);
      if (field === 'parameters') {
        const k = key.startsWith(PARAMS) ? key.slice(PARAMS.length) : key;
        if (![...params].some((p) => p === k || p.startsWith(`${k}.`))) {
          diagnostics.push(diag('KILN2011', { pipeline: reuse.pipeline, name: key, suggestion: didYouMean(k, params), known: [...params].sort().join(', ') || '(none)' }, at));
          ok = false;
        }
        continue;
      }
      if (isParam(key) || !all.has(key)) {
        diagnostics.push(diag('KILN2011', { pipeline: reuse.pipeline, name: key, suggestion: didYouMean(key, all), known: [...all].sort().join(', ') }, at));
        ok = false;
      } else if (field === 'inputs' && produced.has(key)) {
        diagnostics.push(diag('KILN2012', { pipeline: reuse.pipeline, name: key }, at));
        ok = false;
      } else if (field === 'outputs' && !produced.has(key)) {
        diagnostics.push(diag('KILN2013', { pipeline: reuse.pipeline, name: key }, at));
        ok = false;
      }
    }
  };
  check('inputs', reuse.inputs);
  check('outputs', reuse.outputs);
  check('parameters', reuse.parameters);
  if (!ok) return [];
  const paramMap = Object.entries(reuse.parameters ?? {}).map(([k, v]) => [k.startsWith(PARAMS) ? k.slice(PARAMS.length) : k, v.startsWith(PARAMS) ? v.slice(PARAMS.length) : v] as const);
  const rename = (d: string): string => {
    if (isParam(d)) {
      const key = d.slice(PARAMS.length);
      for (const [from, to] of paramMap) {
        if (key === from) return PARAMS + to;
        if (key.startsWith(`${from}.`)) return PARAMS + to + key.slice(from.length);
      }
      return ns ? `${PARAMS}${ns}.${key}` : d;
    }
    if (reuse.inputs && Object.prototype.hasOwnProperty.call(reuse.inputs, d)) return reuse.inputs[d];
    if (reuse.outputs && Object.prototype.hasOwnProperty.call(reuse.outputs, d)) return reuse.outputs[d];
    return ns ? `${ns}.${d}` : d;
  };
  const extraTags = reuse.tags ?? [];
  return inner.map((n) => ({
    ...n,
    name: ns ? `${ns}.${n.name}` : n.name,
    namespace: ns ? (n.namespace ? `${ns}.${n.namespace}` : ns) : n.namespace,
    tags: [...new Set([...n.tags, ...extraTags])].sort(),
    inputs: n.inputs.map((b) => ({ ...b, dataset: rename(b.dataset) })),
    outputs: n.outputs.map((b) => ({ ...b, dataset: rename(b.dataset) })),
    // Each reuse is a pod group of its own: two reuses of one pipeline must not share a pod.
    ...(n.deploy?.pod && ns ? { deploy: { ...n.deploy, pod: { ...n.deploy.pod, group: `${ns}.${n.deploy.pod.group}` } } } : {}),
  }));
}

export { checkModulePath } from './module-path.ts';

export function pipelineLocation(decl: PipelineDecl): SourceLocation {
  return locate(decl.file, '/pipeline');
}

