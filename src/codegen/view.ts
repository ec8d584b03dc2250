// IR → view models for the templates. Every decision is made here; templates only print.
import path from 'node:path';
import { isParam, PARAMS } from '../ir/pipelines.ts';
import type { DatasetIR, NodeIR, ProjectIR } from '../ir/types.ts';
import { ident, lit } from './literals.ts';

export interface ImportView {
  alias: string;
  path: string;
}

export interface BindingView {
  keyLit?: string;
  datasetLit: string;
  valueExpr?: string;
  saveType?: string | null;
}

export interface NodeView {
  nameLit: string;
  call: string;
  inputForm: string;
  inputs: BindingView[];
  outputs: BindingView[];
  /** The type of the node's input record: `{ "a": Datasets["a"]; ... }`. */
  inputsType: string;
}

/** How generated modules refer to node modules: one alias per module path, in sorted order. */
export function moduleAliases(modules: Iterable<string>): Map<string, string> {
  return new Map([...new Set(modules)].sort().map((m, i) => [m, `m${i}`]));
}

export function importPath(generatedDir: string, module: string): string {
  const rel = path.posix.relative(generatedDir, module);
  return lit(rel.startsWith('.') ? rel : `./${rel}`);
}

export function importsView(generatedDir: string, aliases: Map<string, string>): ImportView[] {
  return [...aliases.entries()].map(([m, alias]) => ({ alias, path: importPath(generatedDir, m) }));
}

export const TFJS_MODEL_TYPE = 'import("@tensorflow/tfjs").LayersModel';

/** The type a dataset of this kind accepts on save when no schema says more. */
function saveTypeOf(d: DatasetIR): string {
  switch (d.type) {
    case 'text':
      return 'string';
    case 'binary':
      return 'Uint8Array';
    case 'jsonl':
      return 'unknown[]';
    case 'csv':
      return 'Record<string, unknown>[]';
    case 'partitioned':
      return 'Record<string, unknown>';
    case 'tfjs_model':
      return TFJS_MODEL_TYPE;
    case 'metrics':
      return 'Record<string, number>';
    default:
      return 'unknown';
  }
}

/** Whether the dataset's type is fixed by the catalog (schema or kind) rather than by its producer. */
export function typedByCatalog(d: DatasetIR | undefined): boolean {
  return Boolean(d && (d.schemaJson || d.type === 'tfjs_model' || d.type === 'metrics'));
}

function producerExpr(n: NodeIR, index: number, alias: string): string {
  const ret = `Awaited<ReturnType<typeof ${alias}.${ident(n.func.export)}>>`;
  const b = n.outputs[index];
  if (n.outputForm === 'map') return `${ret}[${lit(b.key!)}]`;
  if (n.outputForm === 'list') return `${ret}[${index}]`;
  return ret;
}

export function valueExpr(n: NodeIR, index: number): string {
  const b = n.outputs[index];
  if (n.outputForm === 'map') return `r[${lit(b.key!)}]`;
  if (n.outputForm === 'list') return `r[${index}]`;
  return 'r';
}

export function nodeView(n: NodeIR, alias: string, datasets: Record<string, DatasetIR>, datasetsType: string): NodeView {
  const inputs: BindingView[] = n.inputs.map((b) => (b.key !== null ? { keyLit: lit(b.key), datasetLit: lit(b.dataset) } : { datasetLit: lit(b.dataset) }));
  const outputs: BindingView[] = n.outputs.map((b, i) => {
    const d = datasets[b.dataset];
    // In-memory intermediates take their producer's type, so there is nothing to check them against.
    const wanted = !d ? 'unknown' : typedByCatalog(d) ? `${datasetsType}[${lit(b.dataset)}]` : saveTypeOf(d);
    const saveType = wanted === 'unknown' ? null : wanted;
    return { datasetLit: lit(b.dataset), valueExpr: valueExpr(n, i), saveType };
  });
  // An object type of indexed accesses, not Pick<Datasets, ...>: Pick makes TypeScript build `keyof Datasets`, a union
  // of every dataset name, and with thousands of datasets the type-check grew much faster than the project.
  const keys = [...new Set(n.inputs.map((b) => lit(b.dataset)))].sort();
  const inputsType = `{ ${keys.map((k) => `${k}: ${datasetsType}[${k}]`).join('; ')} }`;
  return { nameLit: lit(n.name), call: `(await ${alias}()).${ident(n.func.export)}`, inputForm: n.inputForm, inputs, outputs, inputsType };
}

export interface SchemaTypeRef {
  /** generated-relative module path literal, and the exported type name */
  path: string;
  typeName: string;
  alias: string;
}

/** The TypeScript type of every dataset and parameter used by any pipeline, as the Datasets interface holds it. */
export function datasetTypes(ir: ProjectIR, aliases: Map<string, string>, schemaTypes: Map<string, SchemaTypeRef>): Array<{ nameLit: string; type: string }> {
  const pipelines = Object.values(ir.pipelines).sort((a, b) => (a.name < b.name ? -1 : 1));
  const producers = new Map<string, { node: NodeIR; index: number }>();
  const names = new Set<string>();
  for (const p of pipelines) {
    for (const n of p.nodes) {
      n.outputs.forEach((o, index) => {
        if (!producers.has(o.dataset)) producers.set(o.dataset, { node: n, index });
        names.add(o.dataset);
      });
      for (const i of n.inputs) names.add(i.dataset);
    }
  }
  const out: Array<{ nameLit: string; type: string }> = [];
  for (const name of [...names].sort()) {
    out.push({ nameLit: lit(name), type: typeOf(name) });
  }
  return out;

  function typeOf(name: string): string {
    if (isParam(name)) return `Parameters${name.slice(PARAMS.length).split('.').map((k) => `[${lit(k)}]`).join('')}`;
    const d = ir.datasets[name];
    const schemaRef = d?.schema ? schemaTypes.get(d.schema) : undefined;
    if (d && schemaRef) {
      const t = schemaRef.alias;
      if (d.type === 'jsonl' || d.type === 'csv') return `${t}[]`;
      if (d.type === 'partitioned') return `Record<string, () => Promise<${t}>>`;
      return t;
    }
    if (d?.type === 'tfjs_model') return TFJS_MODEL_TYPE;
    if (d?.type === 'metrics') return 'Record<string, number>';
    const prod = producers.get(name);
    if (prod) return producerExpr(prod.node, prod.index, aliases.get(prod.node.func.module)!);
    switch (d?.type) {
      case 'jsonl':
        return 'unknown[]';
      case 'csv':
        return 'Record<string, string>[]';
      case 'text':
        return 'string';
      case 'binary':
        return 'Uint8Array';
      case 'partitioned':
        return 'Record<string, () => Promise<unknown>>';
      default:
        return 'unknown';
    }
  }
}

