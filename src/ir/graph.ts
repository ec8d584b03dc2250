// The dataset graph of a list of nodes: producers, consumers, free inputs, deterministic topological order.
import type { NodeIR } from './types.ts';
import { isParam } from './pipelines.ts';

export interface NodeGraph {
  byName: Map<string, NodeIR>;
  /** dataset → name of the node producing it */
  producer: Map<string, string>;
  /** dataset → names of the nodes reading it */
  consumers: Map<string, string[]>;
  /** node → names of the nodes it depends on */
  parents: Map<string, Set<string>>;
  /** node → names of the nodes depending on it */
  children: Map<string, Set<string>>;
}

export function buildGraph(nodes: readonly NodeIR[]): NodeGraph {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const producer = new Map<string, string>();
  const consumers = new Map<string, string[]>();
  for (const n of nodes) {
    for (const o of n.outputs) if (!producer.has(o.dataset)) producer.set(o.dataset, n.name);
    for (const i of n.inputs) {
      if (isParam(i.dataset)) continue;
      const list = consumers.get(i.dataset) ?? [];
      if (!list.includes(n.name)) list.push(n.name);
      consumers.set(i.dataset, list);
    }
  }
  const parents = new Map<string, Set<string>>(nodes.map((n) => [n.name, new Set<string>()]));
  const children = new Map<string, Set<string>>(nodes.map((n) => [n.name, new Set<string>()]));
  for (const n of nodes) {
    for (const i of n.inputs) {
      const p = producer.get(i.dataset);
      if (p !== undefined && p !== n.name) {
        parents.get(n.name)!.add(p);
        children.get(p)!.add(n.name);
      }
    }
  }
  return { byName, producer, consumers, parents, children };
}

/** Datasets read by the nodes and produced by none of them (parameters excluded). */
export function freeInputs(nodes: readonly NodeIR[]): string[] {
  const produced = new Set(nodes.flatMap((n) => n.outputs.map((o) => o.dataset)));
  const out = new Set<string>();
  for (const n of nodes) for (const i of n.inputs) if (!isParam(i.dataset) && !produced.has(i.dataset)) out.add(i.dataset);
  return [...out].sort();
}

/** Datasets produced and read by no node of the list. */
export function terminalOutputs(nodes: readonly NodeIR[]): string[] {
  const consumed = new Set(nodes.flatMap((n) => n.inputs.map((i) => i.dataset)));
  return [...new Set(nodes.flatMap((n) => n.outputs.map((o) => o.dataset)))].filter((d) => !consumed.has(d)).sort();
}

/** Kahn's algorithm with the ready set sorted by name: the same declarations always give the same order. */
export function topologicalOrder(nodes: readonly NodeIR[], graph = buildGraph(nodes)): { order: NodeIR[]; cycle: string[] | null } {
  const indegree = new Map<string, number>();
  for (const n of nodes) indegree.set(n.name, graph.parents.get(n.name)!.size);
  const ready = nodes.filter((n) => indegree.get(n.name) === 0).map((n) => n.name).sort();
  const order: NodeIR[] = [];
  while (ready.length > 0) {
    const name = ready.shift()!;
    order.push(graph.byName.get(name)!);
    const next: string[] = [];
    for (const c of graph.children.get(name)!) {
      const d = indegree.get(c)! - 1;
      indegree.set(c, d);
      if (d === 0) next.push(c);
    }
    if (next.length) {
      ready.push(...next);
      ready.sort();
    }
  }
  if (order.length === nodes.length) return { order, cycle: null };
  return { order, cycle: findCycle(nodes.filter((n) => (indegree.get(n.name) ?? 0) > 0).map((n) => n.name), graph) };
}

function findCycle(candidates: string[], graph: NodeGraph): string[] {
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  let found: string[] | null = null;
  const visit = (n: string) => {
    if (found) return;
    state.set(n, 1);
    stack.push(n);
    for (const c of [...graph.children.get(n)!].sort()) {
      if (found) return;
      if (state.get(c) === 1) {
        found = [...stack.slice(stack.indexOf(c)), c];
        return;
      }
      if (!state.has(c)) visit(c);
    }
    stack.pop();
    state.set(n, 2);
  };
  for (const n of candidates.sort()) if (!state.has(n)) visit(n);
  return found ?? candidates;
}

/** Everything reachable from `start` along `next` (children for downstream, parents for upstream), start included. */
export function reachable(start: Iterable<string>, next: ReadonlyMap<string, ReadonlySet<string>>): Set<string> {
  const seen = new Set<string>();
  const stack = [...start];
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    for (const c of next.get(n) ?? []) stack.push(c);
  }
  return seen;
}
