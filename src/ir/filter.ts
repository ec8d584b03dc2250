// Selecting part of a pipeline, with Kedro's semantics: each filter narrows, combined filters intersect.
import { diag } from '../diagnostics/diagnostic.ts';
import { didYouMean, didYouMeanOneOf } from '../diagnostics/didyoumean.ts';
import { KilnError } from '../diagnostics/diagnostic.ts';
import type { Diagnostic } from '../diagnostics/types.ts';
import { buildGraph, reachable, topologicalOrder } from './graph.ts';
import { isParam } from './parameter-tree.ts';
import type { NodeIR } from './types.ts';

export interface NodeFilter {
  /** Exactly these nodes. */
  nodes?: string[];
  /** These nodes and everything downstream of them. */
  fromNodes?: string[];
  /** These nodes and everything upstream of them. */
  toNodes?: string[];
  /** Nodes that depend (transitively) on these datasets. */
  fromInputs?: string[];
  /** Nodes needed (transitively) to produce these datasets. */
  toOutputs?: string[];
  /** Nodes with any of these tags. */
  tags?: string[];
  /** Nodes whose namespace is one of these or below it. */
  namespaces?: string[];
}

/** Close names, or (as Kedro suggests) the namespaced nodes a bare name stands for: 'node1' → 'katie.node1'. */
function suggestion(kind: string, name: string, known: string[]): string {
  const close = didYouMean(name, known);
  if (close || kind !== 'node') return close;
  return didYouMeanOneOf(known.filter((k) => k.endsWith(`.${name}`)).sort().slice(0, 3));
}

/** Reports the names not in `known`; the list of known names (sorted unless `inOrder`) is only made for a message. */
function unknown(kind: string, names: readonly string[], known: ReadonlySet<string>, out: Diagnostic[], inOrder = false): void {
  let list: string[] | null = null;
  for (const n of names) {
    if (known.has(n)) continue;
    list ??= inOrder ? [...known] : [...known].sort();
    out.push(diag('KILN2020', { kind, name: n, suggestion: suggestion(kind, n, list), known: list.length > 20 ? `${list.slice(0, 20).join(', ')}, ...` : list.join(', ') }));
  }
}

/** The nodes the filter selects, in the pipeline's (topological) order; throws KilnError on unknown names or an empty result. */
export function filterNodes(nodes: readonly NodeIR[], filter: NodeFilter): NodeIR[] {
  const graph = buildGraph(nodes);
  const names = nodes.map((n) => n.name);
  const errors: Diagnostic[] = [];
  unknown('node', [...(filter.nodes ?? []), ...(filter.fromNodes ?? []), ...(filter.toNodes ?? [])], new Set(graph.byName.keys()), errors, true);
  // Parameters are datasets to Kedro (`params:x` is a node input), so they are valid --from-inputs and --to-outputs.
  const datasets = new Set<string>();
  for (const n of nodes) for (const b of n.inputs) datasets.add(b.dataset);
  for (const n of nodes) for (const b of n.outputs) datasets.add(b.dataset);
  unknown('dataset', [...(filter.fromInputs ?? []), ...(filter.toOutputs ?? [])], datasets, errors);
  // Kedro's only_nodes_with_tags: a tag no node has selects nothing and is no error by itself; only an empty result
  // is (KILN2021). Namespaces, like Kedro's only_nodes_with_namespaces, must each match a node.
  if (filter.namespaces?.length) {
    const namespaces = new Set<string>();
    for (const n of nodes) if (n.namespace) n.namespace.split('.').forEach((_, i, a) => namespaces.add(a.slice(0, i + 1).join('.')));
    unknown('namespace', filter.namespaces, namespaces, errors);
  }
  if (errors.length) throw new KilnError(errors);

  let selected = new Set(names);
  const keep = (s: Set<string>) => {
    selected = new Set([...selected].filter((n) => s.has(n)));
  };
  if (filter.nodes?.length) keep(new Set(filter.nodes));
  if (filter.fromNodes?.length) keep(reachable(filter.fromNodes, graph.children));
  if (filter.toNodes?.length) keep(reachable(filter.toNodes, graph.parents));
  if (filter.fromInputs?.length) {
    const wanted = new Set(filter.fromInputs);
    // graph.consumers leaves parameters out; a parameter's readers are found from the nodes' inputs.
    const readers = nodes.filter((n) => n.inputs.some((i) => wanted.has(i.dataset))).map((n) => n.name);
    keep(reachable(readers, graph.children));
  }
  if (filter.toOutputs?.length) keep(reachable(filter.toOutputs.map((d) => graph.producer.get(d)).filter((p): p is string => p !== undefined), graph.parents));
  if (filter.tags?.length) {
    const want = new Set(filter.tags);
    keep(new Set(nodes.filter((n) => n.tags.some((t) => want.has(t))).map((n) => n.name)));
  }
  if (filter.namespaces?.length) {
    const ns = filter.namespaces;
    keep(new Set(nodes.filter((n) => n.namespace !== null && ns.some((p) => n.namespace === p || n.namespace!.startsWith(`${p}.`))).map((n) => n.name)));
  }
  const result = topologicalOrder(nodes.filter((n) => selected.has(n.name))).order;
  if (result.length === 0) throw new KilnError([diag('KILN2021', { filters: describeFilter(filter) }), ...tagsNoNodeHas(nodes, filter.tags ?? [])]);
  return result;
}

/** Why an empty selection may be a typo: the requested tags that no node has, each with the closest tags in use. */
function tagsNoNodeHas(nodes: readonly NodeIR[], tags: readonly string[]): Diagnostic[] {
  const used = new Set(nodes.flatMap((n) => n.tags));
  const known = [...used].sort();
  return tags.filter((t) => !used.has(t)).map((tag) => diag('KILN2040', { tag, suggestion: didYouMean(tag, known), known: known.join(', ') || '(none)' }));
}

export function describeFilter(f: NodeFilter): string {
  const parts: string[] = [];
  const add = (flag: string, v?: string[]) => {
    if (v?.length) parts.push(`${flag} ${v.join(',')}`);
  };
  add('--nodes', f.nodes);
  add('--from-nodes', f.fromNodes);
  add('--to-nodes', f.toNodes);
  add('--from-inputs', f.fromInputs);
  add('--to-outputs', f.toOutputs);
  add('--tags', f.tags);
  add('--namespaces', f.namespaces);
  return parts.join(' ') || '(no filter)';
}

export function isEmptyFilter(f: NodeFilter): boolean {
  return !Object.values(f).some((v) => Array.isArray(v) && v.length > 0);
}
