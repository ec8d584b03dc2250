// The dataset graph of a list of nodes: producers, consumers, free inputs, deterministic topological order.
import type { NodeIR } from './types.ts';
import { isParam } from './parameter-tree.ts';

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
      const list = consumers.get(i.dataset);
      // Nodes are visited one at a time, so a repeat can only be the node just added: no scan of the list.
      if (!list) consumers.set(i.dataset, [n.name]);
      else if (list[list.length - 1] !== n.name) list.push(n.name);
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

/**
 * Kahn's algorithm taking the smallest ready name first: the same declarations always give the same order. The
 * ready set is a heap, so a node freeing thousands of others costs n log n, not a sort per step.
 */
export function topologicalOrder(nodes: readonly NodeIR[], graph = buildGraph(nodes)): { order: NodeIR[]; cycle: string[] | null } {
  const indegree = new Map<string, number>();
  for (const n of nodes) indegree.set(n.name, graph.parents.get(n.name)!.size);
  const ready = new NameHeap();
  for (const n of nodes) if (indegree.get(n.name) === 0) ready.push(n.name);
  const order: NodeIR[] = [];
  while (ready.size > 0) {
    const name = ready.pop();
    order.push(graph.byName.get(name)!);
    for (const c of graph.children.get(name)!) {
      const d = indegree.get(c)! - 1;
      indegree.set(c, d);
      if (d === 0) ready.push(c);
    }
  }
  if (order.length === nodes.length) return { order, cycle: null };
  return { order, cycle: findCycle(nodes.filter((n) => (indegree.get(n.name) ?? 0) > 0).map((n) => n.name), graph) };
}

/** A binary min-heap of names, in the order Array.prototype.sort gives strings (UTF-16 code units). */
export class NameHeap {
  private readonly items: string[] = [];

  get size(): number {
    return this.items.length;
  }

  push(name: string): void {
    const a = this.items;
    let i = a.push(name) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent] <= name) break;
      a[i] = a[parent];
      i = parent;
    }
    a[i] = name;
  }

  pop(): string {
    const a = this.items;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const r = l + 1;
        const c = r < a.length && a[r] < a[l] ? r : l;
        if (a[c] >= last) break;
        a[i] = a[c];
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

/**
 * The first cycle met by a depth-first search from the sorted candidates, children in sorted order. Iterative: a
 * pipeline's cycle can be as long as the pipeline, far deeper than the call stack.
 */
function findCycle(candidates: string[], graph: NodeGraph): string[] {
  const state = new Map<string, 1 | 2>();
  const path: string[] = [];
  const onPath = new Map<string, number>();
  const frames: Array<{ children: string[]; next: number }> = [];
  const enter = (n: string) => {
    state.set(n, 1);
    onPath.set(n, path.length);
    path.push(n);
    frames.push({ children: [...graph.children.get(n)!].sort(), next: 0 });
  };
  for (const start of candidates.sort()) {
    if (state.has(start)) continue;
    enter(start);
    while (frames.length) {
      const top = frames[frames.length - 1];
      if (top.next === top.children.length) {
        frames.pop();
        const done = path.pop()!;
        onPath.delete(done);
        state.set(done, 2);
        continue;
      }
      const c = top.children[top.next++];
      if (state.get(c) === 1) return [...path.slice(onPath.get(c)), c];
      if (!state.has(c)) enter(c);
    }
  }
  return candidates;
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
