// `kiln run --run-id <key>`: the two roles a process plays in a run several processes share. A task (`--task`)
// runs its nodes and leaves the run RUNNING; the last one (`--finish`) ends it, FINISHED with its artifact, or FAILED
// with the nodes that did not finish and the command that resumes them.
import path from 'node:path';
import { EXIT_OK, EXIT_USER, type Io } from './io.ts';
import type { Diagnostic } from '../diagnostics/types.ts';
import { diag, isKilnError } from '../diagnostics/diagnostic.ts';
import type { NodeIR } from '../ir/types.ts';
import type { PreparedRun, RunRequest } from '../runtime/session.ts';
import { planTask, sharedResumeHint, unfinishedNodes, type TaskPlan } from '../runtime/shared-run.ts';
import type { Tracking } from '../tracking/index.ts';
import { rethrowStoreFull } from '../tracking/disk-full.ts';
import { describeArtifact, packageRun } from './package.ts';
import type { RunFlags } from './run.ts';
import { reportPulled } from './objects-transfer.ts';

export interface SharedRunContext {
  io: Io;
  prepared: PreparedRun;
  /** The nodes the workflow's filters select: the whole of the shared run. */
  selection: readonly NodeIR[];
  req: RunRequest;
  flags: RunFlags;
  tracking: Tracking;
  runId: string;
  say: (diagnostics: readonly Diagnostic[]) => number;
}

/** What a failed write of a detached recorder means for the user (a full disk is theirs; anything else is a bug). */
export function detachedDiagnostics(pending: unknown): Diagnostic[] {
  if (pending === undefined) return [];
  if (isKilnError(pending)) return pending.diagnostics;
  throw pending;
}

/** Plans this task in the run, ends what a dead earlier attempt left RUNNING, and says what is skipped. */
export async function taskOfSharedRun(ctx: SharedRunContext): Promise<TaskPlan> {
  const runs = ctx.tracking.runs;
  const run = await runs.getRun(ctx.runId);
  // An attempt killed after recording a node but before pushing its outputs leaves them nowhere another pod can
  // read: that node runs again rather than be skipped.
  const mine = new Set(ctx.prepared.nodes.map((n) => n.name));
  const lost = new Set<number>();
  for (const x of run.nodes) {
    if (x.status !== 'FINISHED' || !mine.has(x.node)) continue;
    for (const o of Object.values(x.outputs)) if (o.object && !(await ctx.tracking.objects.hasComplete(o.object))) lost.add(x.id);
  }
  const plan = planTask(ctx.selection, ctx.prepared.nodes, lost.size ? { ...run, nodes: run.nodes.filter((x) => !lost.has(x.id)) } : run);
  // Argo starts a retry only after the failed attempt's pod ended: what that attempt left RUNNING will never end.
  for (const id of plan.abandoned) await runs.finishNode(id, { status: 'FAILED', error: 'this attempt ended without finishing the node; the task was retried' });
  if (plan.alreadyDone.length) ctx.io.err(`run ${ctx.runId}: ${plan.alreadyDone.join(', ')} finished in an earlier attempt of this task; not run or recorded again\n`);
  return plan;
}

/** The local command that covers what the workflow covered: the resume hint builds on it. */
function localCommand(ctx: SharedRunContext): string[] {
  const out = ['kiln', 'run', ctx.prepared.pipeline.name];
  const flagOf: Record<string, string> = { nodes: '--nodes', fromNodes: '--from-nodes', toNodes: '--to-nodes', fromInputs: '--from-inputs', toOutputs: '--to-outputs', tags: '--tags', namespaces: '--namespaces' };
  for (const [k, v] of Object.entries(ctx.req.filter)) if (Array.isArray(v) && v.length) out.push(flagOf[k], v.join(','));
  for (const p of ctx.req.params) out.push('--params', p);
  return out;
}

export async function finishSharedRun(ctx: SharedRunContext): Promise<number> {
  const { io, runId } = ctx;
  const runs = ctx.tracking.runs;
  const status = typeof ctx.flags.finish === 'string' ? ctx.flags.finish : 'Succeeded';
  const record = await runs.getRun(runId);
  if (record.status !== 'RUNNING') {
    // The exit handler after the final task: the run already says what the workflow says.
    if (record.status === 'FINISHED' || status !== 'Succeeded') {
      io.err(`run ${runId} has already ended: ${record.status}\n`);
      return EXIT_OK;
    }
    return ctx.say([diag('KILN7073', { run: runId, key: ctx.flags.runId!, status: record.status, error: record.error ? ` (${record.error})` : '', pipeline: ctx.prepared.pipeline.name })]) || EXIT_USER;
  }
  const unfinished = unfinishedNodes(ctx.selection, record);
  if (unfinished || status !== 'Succeeded') {
    const done = unfinished?.done ?? new Set(ctx.selection.map((n) => n.name));
    const problem = unfinished?.problem ?? `the workflow ended ${status}`;
    const resume = sharedResumeHint(ctx.prepared.ir, ctx.selection, done, localCommand(ctx));
    await runs.finishRun(runId, { status: 'FAILED', error: `${problem}. ${resume}` });
    return ctx.say([diag('KILN7077', { run: runId, problem, resume })]) || EXIT_USER;
  }
  await runs.finishRun(runId, { status: 'FINISHED' });
  const model = ctx.prepared.pipeline.model;
  if (model && ctx.flags.package) {
    const names = new Set(ctx.selection.map((n) => n.name));
    if (model.nodes.every((n) => names.has(n))) {
      const root = ctx.req.root;
      const built = await packageRun(ctx.prepared.ir, ctx.tracking, runId).catch((e: unknown) => rethrowStoreFull(e, path.join(root, ctx.prepared.ir.settings.storeDir), `building the artifact of model '${model.name}'`));
      io.err(describeArtifact(io, root, built));
      reportPulled(io, ctx.tracking);
    } else {
      io.err(`no artifact built: this run did not include the whole inference path of model '${model.name}' (${model.nodes.join(', ')})\n`);
    }
  }
  io.err(`run ${runId} finished: ${ctx.selection.length} node(s), recorded by the tasks of the workflow\n`);
  return EXIT_OK;
}
