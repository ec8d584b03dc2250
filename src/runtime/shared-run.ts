// One run recorded by several processes (the tasks of an Argo workflow, each in its own pod): which of a task's nodes
// are left to run, which of their inputs other tasks produced (restored from the object store, the only thing pods
// share besides the run store), and whether the run as a whole may finish.
import { diag, KilnError } from '../diagnostics/diagnostic.ts';
import type { Diagnostic } from '../diagnostics/types.ts';
import { freeInputs } from '../ir/graph.ts';
import type { NodeIR, ProjectIR } from '../ir/types.ts';
import type { RunRecord, RunSummary } from '../tracking/store.ts';
import type { GitStamp } from '../tracking/git.ts';
import type { Snapshot } from './tracker.ts';
import { resumeHint } from './resume.ts';

/** What Argo's {{workflow.uid}} (a UUID) and kiln's own run ids both are; nothing a shell or a path could misread. */
const RUN_KEY = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export function checkRunKey(key: string): void {
  if (!RUN_KEY.test(key)) {
    const reason = key === '' ? 'it is empty' : key.length > 128 ? `it is ${key.length} characters long` : key.includes('{{') ? 'it is an Argo expression that was not replaced (the command ran outside Argo)' : 'it holds characters other than letters, digits, ".", "_", ":" and "-"';
    throw new KilnError(diag('KILN7075', { key, reason }));
  }
}

/** Refuses a run shared under `key` that this process cannot add to: ended, of another pipeline, or of another commit. */
export function checkJoinable(run: RunSummary, key: string, pipeline: string, stamp: GitStamp | null): void {
  if (run.status !== 'RUNNING') throw new KilnError(diag('KILN7073', { run: run.id, key, status: run.status, error: run.error ? ` (${run.error})` : '', pipeline }));
  if (run.pipeline !== pipeline) {
    throw new KilnError(diag('KILN7074', { run: run.id, key, problem: `is a run of pipeline '${run.pipeline}', not '${pipeline}'`, fix: 'run each task with the pipeline name the workflow was emitted for.' }));
  }
  const commit = stamp?.commit ?? null;
  if (run.git.commit && commit && run.git.commit !== commit) {
    throw new KilnError(diag('KILN7074', { run: run.id, key, problem: `was started at commit ${run.git.commit.slice(0, 12)}, and this process runs commit ${commit.slice(0, 12)}`, fix: 'build one image and run every task of the workflow in it (an image per commit, tagged with it).' }));
  }
}

export interface TaskPlan {
  /** The task's nodes that have not finished in the run yet, in topological order. */
  toRun: NodeIR[];
  /** Nodes of the task an earlier attempt already finished (a retried task does not record them twice). */
  alreadyDone: string[];
  /** Inputs of `toRun` produced by other tasks (or by this task's earlier attempt), by dataset. */
  upstream: Map<string, Snapshot>;
  /** Executions of the task's nodes still RUNNING: an earlier attempt of this task that died (Argo retries a task after its pod ended). */
  abandoned: number[];
}

/** The newest FINISHED execution of each node in the run. */
function finishedByNode(run: RunRecord): Map<string, RunRecord['nodes'][number]> {
  const out = new Map<string, RunRecord['nodes'][number]>();
  for (const x of run.nodes) if (x.status === 'FINISHED' && (!out.has(x.node) || out.get(x.node)!.id < x.id)) out.set(x.node, x);
  return out;
}

/**
 * What this task does in the shared run: its nodes minus those finished already, and each of their inputs that a node
 * of the selection outside them produced, with the snapshot to restore it from. An input whose producer is outside the
 * selection is read where it lies, as in a filtered local run.
 */
export function planTask(selection: readonly NodeIR[], task: readonly NodeIR[], run: RunRecord): TaskPlan {
  const finished = finishedByNode(run);
  const inTask = new Set(task.map((n) => n.name));
  const toRun = task.filter((n) => !finished.has(n.name));
  const alreadyDone = task.filter((n) => finished.has(n.name)).map((n) => n.name);
  const producer = new Map(selection.flatMap((n) => n.outputs.map((o) => [o.dataset, n] as const)));
  const upstream = new Map<string, Snapshot>();
  const problems: Diagnostic[] = [];
  const running = new Set(toRun.map((n) => n.name));
  for (const d of freeInputs(toRun)) {
    const p = producer.get(d);
    if (!p || running.has(p.name)) continue;
    const out = finished.get(p.name)?.outputs[d];
    if (out?.object) {
      upstream.set(d, { hash: out.sha256, ref: out.object });
      continue;
    }
    const reader = toRun.find((n) => n.inputs.some((i) => i.dataset === d))!;
    const fix = finished.has(p.name)
      ? `Node '${p.name}' finished but kept no copy of '${d}' in the object store (a value v8 cannot serialize); put both nodes in one pod group (\`pod:\` in the pipeline YAML), so that the value never leaves the process.`
      : inTask.has(p.name)
        ? 'It belongs to this task; this is a bug in kiln, please report it.'
        : `Run the task of node '${p.name}' first: emitted workflows order tasks by their data (kiln emit argo); a hand-made one must too.`;
    problems.push(diag('KILN7076', { dataset: d, node: reader.name, producer: p.name, run: run.id, fix }, reader.inputs.find((i) => i.dataset === d)?.location));
  }
  if (problems.length) throw new KilnError(problems);
  const abandoned = run.nodes.filter((x) => x.status === 'RUNNING' && inTask.has(x.node)).map((x) => x.id);
  return { toRun, alreadyDone, upstream, abandoned };
}

/** Why the shared run cannot finish (nodes of the selection that failed or never finished), or null when every one finished. */
export function unfinishedNodes(selection: readonly NodeIR[], run: RunRecord): { done: Set<string>; problem: string } | null {
  const finished = finishedByNode(run);
  const done = new Set(selection.filter((n) => finished.has(n.name)).map((n) => n.name));
  if (done.size === selection.length) return null;
  const failed: string[] = [];
  const latest = new Map<string, RunRecord['nodes'][number]>();
  for (const x of run.nodes) if (!latest.has(x.node) || latest.get(x.node)!.id < x.id) latest.set(x.node, x);
  for (const n of selection) {
    const x = latest.get(n.name);
    if (!done.has(n.name) && x) failed.push(`node '${n.name}' ${x.status === 'RUNNING' ? 'did not end' : `${x.status.toLowerCase()}${x.error ? ` (${x.error})` : ''}`}`);
  }
  const never = selection.length - done.size - failed.length;
  const parts = [...failed, ...(never ? [`${never} node(s) did not run`] : [])];
  return { done, problem: parts.join('; ') };
}

/** The resume hint of a shared run that failed: the local command that runs what is left (unchanged nodes skip). */
export function sharedResumeHint(ir: ProjectIR, selection: readonly NodeIR[], done: ReadonlySet<string>, command: readonly string[]): string {
  const persisted = (d: string) => ir.datasets[d] !== undefined && ir.datasets[d].type !== 'memory';
  return resumeHint(selection, done, persisted, command);
}
