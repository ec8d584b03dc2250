// After a failure: which nodes to resume from (Kedro's `_find_nodes_to_resume_from`). The nearest nodes whose
// inputs are all persisted, so that `--from-nodes` re-runs as little as possible and nothing is left out.
import { buildGraph, reachable, topologicalOrder } from '../ir/graph.ts';
import { isParam } from '../ir/parameter-tree.ts';
import type { NodeIR } from '../ir/types.ts';

/** Whether a dataset survives the process (a catalog entry stored outside memory). */
export type IsPersisted = (dataset: string) => boolean;

function fromNodes(nodes: readonly NodeIR[], start: Iterable<string>): Set<string> {
  return reachable(start, buildGraph(nodes).children);
}

/** Every node a resumed run must execute: the unfinished ones, the producers of their non-persisted inputs, and all downstream. */
export function nodesForResumedRun(nodes: readonly NodeIR[], unfinished: ReadonlySet<string>, persisted: IsPersisted): Set<string> {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const g = buildGraph(nodes);
  const unfinishedNodes = nodes.filter((n) => unfinished.has(n.name));
  // Nodes of interest that read something produced outside the set (Kedro's _nodes_with_external_inputs).
  const producedInside = new Set(unfinishedNodes.flatMap((n) => n.outputs.map((o) => o.dataset)));
  const initial = unfinishedNodes.filter((n) => n.inputs.some((i) => !producedInside.has(i.dataset)));
  const toRun = new Set(unfinished);
  const queue = [...initial.map((n) => n.name)];
  const visited = new Set(queue);
  while (queue.length) {
    const name = queue.shift()!;
    toRun.add(name);
    for (const i of byName.get(name)!.inputs) {
      if (isParam(i.dataset) || persisted(i.dataset)) continue;
      const p = g.producer.get(i.dataset);
      if (p !== undefined && !visited.has(p)) {
        visited.add(p);
        queue.push(p);
      }
    }
  }
  return fromNodes(nodes, toRun);
}

/** The first group (in topological order) of the nodes a resumed run needs: what `--from-nodes` should name. */
export function nodesToResumeFrom(nodes: readonly NodeIR[], unfinished: ReadonlySet<string>, persisted: IsPersisted): string[] {
  if (unfinished.size === 0) return [];
  const needed = nodesForResumedRun(nodes, unfinished, persisted);
  const sub = nodes.filter((n) => needed.has(n.name));
  const g = buildGraph(sub);
  // Kedro's grouped_nodes[0]: the nodes of the sub-pipeline with no parent inside it.
  return topologicalOrder(sub, g).order.filter((n) => g.parents.get(n.name)!.size === 0).map((n) => n.name).sort();
}

/**
 * The hint after a failed or interrupted run. With the previous command it is a complete command: repeated
 * `--from-nodes` flags merge, so appending one to a command that already had one would re-run finished nodes; the
 * old ones are dropped and the other flags (filters included: the resumed nodes lie inside them) kept.
 */
export function resumeHint(nodes: readonly NodeIR[], done: ReadonlySet<string>, persisted: IsPersisted, previous: readonly string[] = []): string {
  if (done.size === 0) return 'No nodes ran. Repeat the previous command to attempt a new run.';
  const remaining = new Set(nodes.filter((n) => !done.has(n.name)).map((n) => n.name));
  const from = nodesToResumeFrom(nodes, remaining, persisted);
  const count = `There ${remaining.size === 1 ? 'is 1 node' : `are ${remaining.size} nodes`} that did not run.`;
  const flag = `--from-nodes "${from.join(',')}"`;
  if (previous.length === 0) return `${count} You can resume from the nearest nodes with persisted inputs by adding to your previous command, in place of any --from-nodes:\n  ${flag}`;
  return `${count} You can resume from the nearest nodes with persisted inputs with:\n  ${[...withoutFromNodes(previous).map(shellWord), flag].join(' ')}`;
}

function withoutFromNodes(command: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < command.length; i++) {
    if (command[i] === '--from-nodes') i++;
    else if (!command[i].startsWith('--from-nodes=')) out.push(command[i]);
  }
  return out;
}

/** The word as a POSIX shell reads it back: bare when it has only safe characters, else single-quoted. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
