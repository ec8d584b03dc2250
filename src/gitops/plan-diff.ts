// The structural difference between two compiled projects, and which nodes will re-run: a pure function of the two
// IRs and of what the caller found out about code and input data (plan.ts does that I/O).
// A node re-runs when its fingerprint (src/runtime/runner.ts: code hash, function, wiring, parameters read, input
// content, the catalog entries of what it reads and writes, the backend) changes. A node whose only reason is an
// upstream re-run may re-run: the runner skips it when what upstream writes comes out byte-identical.
import { datasetDeclaration } from '../ir/declaration.ts';
import { buildGraph, freeInputs } from '../ir/graph.ts';
import { flattenParameters, parameterValue } from '../ir/parameters.ts';
import { isParam, PARAMS } from '../ir/pipelines.ts';
import type { DatasetIR, JsonValue, ModelBindingIR, NodeIR, PipelineIR, ProjectIR, ProjectSettings } from '../ir/types.ts';
import { canonicalJson } from '../runtime/runner.ts';

export type NodeField = 'run' | 'inputs' | 'outputs' | 'tags' | 'namespace';

export interface ValueChange {
  key: string;
  /** Absent when the key was added. */
  old?: JsonValue;
  /** Absent when the key was removed. */
  new?: JsonValue;
}

export interface CatalogChange {
  dataset: string;
  change: 'added' | 'removed' | 'changed';
  /** The fields that differ (changed), or the dataset type (added, removed). */
  fields: string[];
  type: string;
}

export interface ModelChange {
  pipeline: string;
  model: string;
  change: 'added' | 'removed' | 'changed';
  /** Field-level changes: name, input, output, input_schema, output_schema, gate.metrics.<m>, gate.better_than, nodes. */
  fields: ValueChange[];
}

export type RerunReason =
  | { kind: 'new' }
  | { kind: 'code'; module: string; detail?: string }
  | { kind: 'wiring'; fields: string[] }
  | { kind: 'params'; keys: string[] }
  | { kind: 'data'; datasets: string[] }
  | { kind: 'catalog'; datasets: string[] }
  | { kind: 'backend'; old: string; new: string }
  | { kind: 'upstream'; nodes: string[] };

export interface Rerun {
  node: string;
  reasons: RerunReason[];
  /** False when the only reason is an upstream re-run: then the node re-runs only if its inputs' bytes change. */
  certain: boolean;
}

export interface PipelinePlan {
  name: string;
  change: 'added' | 'removed' | 'changed' | 'unchanged';
  nodesAdded: string[];
  nodesRemoved: string[];
  nodesChanged: Array<{ node: string; fields: NodeField[] }>;
  /** Nodes that will re-run, in the head side's execution order. */
  reruns: Rerun[];
  /** How many nodes the pipeline has at the head side. */
  nodeCount: number;
}

export interface RevisionInfo {
  /** What the user named (a ref, "working tree"). */
  label: string;
  /** The commit (for the working tree: HEAD's). */
  commit: string | null;
  /** True for the working tree (uncommitted changes included). */
  workingTree: boolean;
}

export interface Plan {
  base: RevisionInfo;
  head: RevisionInfo;
  settings: ValueChange[];
  parameters: ValueChange[];
  catalog: CatalogChange[];
  models: ModelChange[];
  /** Free inputs whose content (or declaration) differs between the sides. */
  inputData: Array<{ dataset: string; why: string }>;
  pipelines: PipelinePlan[];
  /** Kinds of change plan cannot see that could still make a run re-run nodes, each said plainly. */
  unseen: string[];
}

/** What plan.ts found by reading both sides' files. */
export interface PlanFacts {
  /** Whether (and why, when it is not simply different code) a node's code differs between the sides; null when the same. */
  codeChange(pipeline: string, base: NodeIR, head: NodeIR): { detail?: string } | null;
  /** Free input datasets whose content differs between the sides, with a short why. */
  changedData: ReadonlyMap<string, string>;
  /** Whether a run of the pipeline salts its fingerprints with the backend (it uses TensorFlow.js), at the head. */
  usesBackend(pipeline: string): boolean;
  /** What plan.ts could not compare (data outside git, versioned inputs). */
  unseen: readonly string[];
}

const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);
const sorted = (xs: Iterable<string>) => [...xs].sort();

function valueChanges(a: Record<string, JsonValue>, b: Record<string, JsonValue>): ValueChange[] {
  const out: ValueChange[] = [];
  for (const key of sorted(new Set([...Object.keys(a), ...Object.keys(b)]))) {
    const inA = Object.prototype.hasOwnProperty.call(a, key);
    const inB = Object.prototype.hasOwnProperty.call(b, key);
    if (inA && inB && same(a[key], b[key])) continue;
    out.push({ key, ...(inA ? { old: a[key] } : {}), ...(inB ? { new: b[key] } : {}) });
  }
  return out;
}

function settingsView(s: ProjectSettings): Record<string, JsonValue> {
  return {
    name: s.name,
    pipelines: s.pipelinesDir,
    generated: s.generatedDir,
    store: s.storeDir,
    'git.main': s.mainBranch,
    backend: s.backend,
    'publish.target': s.publish.target,
    hooks: s.hooks.map((h) => `${h.module}#${h.export}`),
  };
}

function catalogView(d: DatasetIR): Record<string, JsonValue> {
  return { type: d.type, path: d.path ?? null, versioned: d.versioned, schema: d.schema ?? null, 'schema content': (d.schemaJson ?? null) as JsonValue, options: d.options, description: d.description ?? null };
}

function diffCatalog(base: ProjectIR, head: ProjectIR): CatalogChange[] {
  const declared = (ir: ProjectIR) => Object.fromEntries(Object.entries(ir.datasets).filter(([, d]) => d.declared));
  const a = declared(base);
  const b = declared(head);
  const out: CatalogChange[] = [];
  for (const name of sorted(new Set([...Object.keys(a), ...Object.keys(b)]))) {
    if (!a[name]) out.push({ dataset: name, change: 'added', fields: [], type: b[name].type });
    else if (!b[name]) out.push({ dataset: name, change: 'removed', fields: [], type: a[name].type });
    else {
      const fields = valueChanges(catalogView(a[name]), catalogView(b[name])).map((c) => c.key);
      if (fields.length) out.push({ dataset: name, change: 'changed', fields, type: b[name].type });
    }
  }
  return out;
}

function modelView(m: ModelBindingIR): Record<string, JsonValue> {
  const v: Record<string, JsonValue> = {
    name: m.name,
    input: m.input,
    output: m.output,
    input_schema: (m.inputSchemaJson ?? m.inputSchema ?? null) as JsonValue,
    output_schema: (m.outputSchemaJson ?? m.outputSchema ?? null) as JsonValue,
    nodes: m.nodes,
    'gate.better_than': m.gate?.betterThan ?? null,
  };
  for (const [metric, g] of Object.entries(m.gate?.metrics ?? {})) v[`gate.metrics.${metric}`] = `${g.op} ${g.value}`;
  return v;
}

function diffModel(pipeline: string, a: ModelBindingIR | null, b: ModelBindingIR | null): ModelChange | null {
  if (!a && !b) return null;
  if (!a) return { pipeline, model: b!.name, change: 'added', fields: valueChanges({}, modelView(b!)) };
  if (!b) return { pipeline, model: a.name, change: 'removed', fields: valueChanges(modelView(a), {}) };
  const fields = valueChanges(modelView(a), modelView(b));
  return fields.length ? { pipeline, model: b.name, change: 'changed', fields } : null;
}

const bindingsView = (form: string, list: NodeIR['inputs']) => ({ form, list: list.map((x) => [x.key, x.dataset]) });

function nodeFields(a: NodeIR, b: NodeIR): NodeField[] {
  const out: NodeField[] = [];
  if (a.func.module !== b.func.module || a.func.export !== b.func.export) out.push('run');
  if (!same(bindingsView(a.inputForm, a.inputs), bindingsView(b.inputForm, b.inputs))) out.push('inputs');
  if (!same(bindingsView(a.outputForm, a.outputs), bindingsView(b.outputForm, b.outputs))) out.push('outputs');
  if (!same(sorted(a.tags), sorted(b.tags))) out.push('tags');
  if (a.namespace !== b.namespace) out.push('namespace');
  return out;
}

/** The parts of a node's fingerprint that come from its declaration (function, binding forms, keys and datasets). */
function wiringFields(a: NodeIR, b: NodeIR): string[] {
  const out: string[] = [];
  if (a.func.export !== b.func.export) out.push('function');
  if (!same(bindingsView(a.inputForm, a.inputs), bindingsView(b.inputForm, b.inputs))) out.push('inputs');
  if (!same(bindingsView(a.outputForm, a.outputs), bindingsView(b.outputForm, b.outputs))) out.push('outputs');
  return out;
}

/** The changed dotted keys that a node reading `params:<key>` sees: the leaves under it, or the key itself. */
function changedLeaves(key: string, changes: readonly ValueChange[]): string[] {
  const under = changes.map((c) => c.key).filter((k) => k === key || k.startsWith(`${key}.`));
  return under.length ? under : [key];
}

function planPipeline(name: string, a: PipelineIR | undefined, b: PipelineIR | undefined, base: ProjectIR, head: ProjectIR, facts: PlanFacts, paramChanges: readonly ValueChange[]): PipelinePlan {
  const aNodes = new Map((a?.nodes ?? []).map((n) => [n.name, n]));
  const bNodes = b?.nodes ?? [];
  const bNames = new Set(bNodes.map((n) => n.name));
  const plan: PipelinePlan = {
    name,
    change: !a ? 'added' : !b ? 'removed' : 'unchanged',
    nodesAdded: bNodes.filter((n) => !aNodes.has(n.name)).map((n) => n.name).sort(),
    nodesRemoved: [...aNodes.keys()].filter((n) => !bNames.has(n)).sort(),
    nodesChanged: [],
    reruns: [],
    nodeCount: bNodes.length,
  };
  if (!b) return plan;
  const graph = buildGraph(bNodes);
  const free = new Set(freeInputs(bNodes));
  const rerunning = new Set<string>();
  // b.nodes is in topological order, so every parent is decided before its children.
  for (const n of bNodes) {
    const old = aNodes.get(n.name);
    const reasons: RerunReason[] = [];
    if (!old) reasons.push({ kind: 'new' });
    else {
      const fields = nodeFields(old, n);
      if (fields.length) plan.nodesChanged.push({ node: n.name, fields });
      const code = facts.codeChange(name, old, n);
      if (code !== null) reasons.push({ kind: 'code', module: n.func.module, ...(code.detail ? { detail: code.detail } : {}) });
      const wiring = wiringFields(old, n);
      if (wiring.length) reasons.push({ kind: 'wiring', fields: wiring });
      const params = n.inputs
        .filter((i) => isParam(i.dataset))
        .map((i) => i.dataset.slice(PARAMS.length))
        .filter((key) => !same(parameterValue(base.parameters.values, key) ?? null, parameterValue(head.parameters.values, key) ?? null))
        .flatMap((key) => changedLeaves(key, paramChanges));
      if (params.length) reasons.push({ kind: 'params', keys: sorted(new Set(params)) });
      const data = n.inputs.filter((i) => free.has(i.dataset) && facts.changedData.has(i.dataset)).map((i) => i.dataset);
      if (data.length) reasons.push({ kind: 'data', datasets: sorted(new Set(data)) });
      const redeclared = [...n.inputs, ...n.outputs].map((b) => b.dataset).filter((d) => !isParam(d) && !same(datasetDeclaration(base.datasets[d]), datasetDeclaration(head.datasets[d])));
      if (redeclared.length) reasons.push({ kind: 'catalog', datasets: sorted(new Set(redeclared)) });
      if (base.settings.backend !== head.settings.backend && facts.usesBackend(name)) reasons.push({ kind: 'backend', old: base.settings.backend, new: head.settings.backend });
    }
    const up = [...graph.parents.get(n.name)!].filter((p) => rerunning.has(p)).sort();
    if (up.length) reasons.push({ kind: 'upstream', nodes: up });
    if (reasons.length) {
      rerunning.add(n.name);
      plan.reruns.push({ node: n.name, reasons, certain: reasons.some((r) => r.kind !== 'upstream') });
    }
  }
  if (plan.change === 'unchanged' && (plan.nodesAdded.length || plan.nodesRemoved.length || plan.nodesChanged.length || plan.reruns.length || !same(a!.nodes.map((n) => n.name), b.nodes.map((n) => n.name)))) plan.change = 'changed';
  return plan;
}

export function diffProjects(base: ProjectIR, head: ProjectIR, facts: PlanFacts, revisions: { base: RevisionInfo; head: RevisionInfo }): Plan {
  const names = sorted(new Set([...Object.keys(base.pipelines), ...Object.keys(head.pipelines)]));
  const parameters = valueChanges(flattenParameters(base.parameters.values), flattenParameters(head.parameters.values));
  return {
    base: revisions.base,
    head: revisions.head,
    settings: valueChanges(settingsView(base.settings), settingsView(head.settings)),
    parameters,
    catalog: diffCatalog(base, head),
    models: names.map((p) => diffModel(p, base.pipelines[p]?.model ?? null, head.pipelines[p]?.model ?? null)).filter((m): m is ModelChange => m !== null),
    inputData: [...facts.changedData.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([dataset, why]) => ({ dataset, why })),
    pipelines: names.map((p) => planPipeline(p, base.pipelines[p], head.pipelines[p], base, head, facts, parameters)),
    unseen: [...facts.unseen],
  };
}

/** Whether anything at all differs. */
export function planIsEmpty(plan: Plan): boolean {
  return !plan.settings.length && !plan.parameters.length && !plan.catalog.length && !plan.models.length && !plan.inputData.length && plan.pipelines.every((p) => p.change === 'unchanged');
}
