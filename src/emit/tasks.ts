// The tasks of an emitted workflow: one per node, or one per pod group (`pod:` on nodes), with the dependencies
// between tasks that the data between their nodes makes. A group is one process, so it must be contiguous: a node of
// another task that needs one of its nodes and is needed by another would make the tasks wait on each other forever.
import { diag, KilnError } from '../diagnostics/diagnostic.ts';
import type { Diagnostic } from '../diagnostics/types.ts';
import { buildGraph, reachable } from '../ir/graph.ts';
import type { NodeIR } from '../ir/types.ts';

export interface Task {
  /** The pod group, or the node's own name for a node without one. */
  key: string;
  /** Its nodes, in the pipeline's (topological) order. */
  nodes: NodeIR[];
  /** Keys of the tasks it waits for, sorted. */
  after: string[];
}

/** Groups the selected nodes (in topological order) into tasks; throws KILN2041 for each group that is not contiguous. */
export function planTasks(nodes: readonly NodeIR[]): Task[] {
  const keyOf = new Map(nodes.map((n) => [n.name, n.deploy?.pod ? `pod:${n.deploy.pod.group}` : `node:${n.name}`] as const));
  const graph = buildGraph(nodes);
  const tasks = new Map<string, Task>();
  for (const n of nodes) {
    const key = keyOf.get(n.name)!;
    let t = tasks.get(key);
    if (!t) tasks.set(key, (t = { key, nodes: [], after: [] }));
    t.nodes.push(n);
  }
  const problems: Diagnostic[] = [];
  for (const t of tasks.values()) if (t.key.startsWith('pod:') && t.nodes.length > 1) problems.push(...notContiguous(t, graph, keyOf));
  if (problems.length) throw new KilnError(problems);
  for (const t of tasks.values()) {
    const after = new Set<string>();
    for (const n of t.nodes) for (const p of graph.parents.get(n.name)!) if (keyOf.get(p) !== t.key) after.add(keyOf.get(p)!);
    t.after = [...after].sort();
  }
  return [...tasks.values()];
}

/** A node outside the group downstream of one of its nodes and upstream of another, if any. */
function notContiguous(t: Task, graph: ReturnType<typeof buildGraph>, keyOf: ReadonlyMap<string, string>): Diagnostic[] {
  const inGroup = new Set(t.nodes.map((n) => n.name));
  const outside = (s: Set<string>) => [...s].filter((n) => keyOf.get(n) !== t.key);
  // Everything reachable from the group through a node outside it, and everything reaching it that way.
  const below = reachable(outside(new Set(t.nodes.flatMap((n) => [...graph.children.get(n.name)!]))), graph.children);
  const above = new Set(reachable(outside(new Set(t.nodes.flatMap((n) => [...graph.parents.get(n.name)!]))), graph.parents));
  const between = [...below].filter((n) => above.has(n) && !inGroup.has(n)).sort();
  if (between.length === 0) return [];
  const b = between[0];
  const ancestors = reachable([b], graph.parents);
  const descendants = reachable([b], graph.children);
  const from = t.nodes.find((n) => ancestors.has(n.name))!;
  const to = t.nodes.find((n) => descendants.has(n.name))!;
  const group = t.key.slice('pod:'.length);
  return [diag('KILN2041', { group, between: b, from: from.name, to: to.name }, to.deploy?.pod?.location ?? to.location)];
}
