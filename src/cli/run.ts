// `kiln run [pipeline]`: compile, run the pipeline (or part of it), record the run, build the model artifact.
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import type { CommandModule } from './main.ts';
import { report, EXIT_OK, EXIT_USER, handleFailure, type Io } from './io.ts';
import { backendInFingerprints, executeRun, prepareRun, usesTensorflow, type PreparedRun, type RunRequest } from '../runtime/session.ts';
import { kilnVersion } from '../version.ts';
import { storeDirOf } from '../config/store-dir.ts';
import { describeArtifact, packageRun } from './package.ts';
import { plainReporter, ttyReporter } from '../runtime/progress.ts';
import { diag, isKilnError } from '../diagnostics/diagnostic.ts';
import { objectsRemoteFromEnv, objectsRemoteOf } from '../config/objects-remote.ts';
import type { RunInvocation } from '../tracking/store.ts';
import { isDiskFull, rethrowStoreFull } from '../tracking/disk-full.ts';
import type { Diagnostic } from '../diagnostics/types.ts';
import { RunJsonSummary } from './run-json.ts';
import { EXIT_INTERNAL } from './io.ts';
import { filterNodes } from '../ir/filter.ts';
import { checkJoinable, checkRunKey } from '../runtime/shared-run.ts';
import type { Snapshot } from '../runtime/tracker.ts';
import type { RunStatus } from '../tracking/store.ts';
import { detachedDiagnostics, finishSharedRun, taskOfSharedRun } from './run-shared.ts';
import type { TaskShare } from '../tracking/remote-push.ts';
import { bytes, reportPulled } from './objects-transfer.ts';

const list = (v: string, prev: string[] = []) => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];
const repeat = (v: string, prev: string[] = []) => [...prev, v];

export interface RunFlags {
  project: string;
  nodes?: string[];
  fromNodes?: string[];
  toNodes?: string[];
  fromInputs?: string[];
  toOutputs?: string[];
  tags?: string[];
  namespaces?: string[];
  params?: string[];
  loadVersion?: string[];
  backend?: string;
  parallel?: string | boolean;
  cache: boolean;
  track: boolean;
  package: boolean;
  json?: boolean;
  /** Key of a run several processes share (an Argo workflow's uid). */
  runId?: string;
  /** With runId: this process's share of the selected nodes. */
  task?: string[];
  /** With runId: finish the shared run instead of running nodes; a string is the workflow's status (Succeeded, Failed, Error). */
  finish?: string | boolean;
}

/** Prints diagnostics for people (stderr) and, with --json, keeps them for the summary too. */
type Say = (diagnostics: readonly Diagnostic[], opts?: { sources?: ReadonlyMap<string, string> }) => number;

export function addFilterOptions(cmd: Command): Command {
  return cmd
    .option('--nodes <names>', 'run only these nodes (comma-separated)', list)
    .option('--from-nodes <names>', 'run these nodes and everything downstream of them', list)
    .option('--to-nodes <names>', 'run these nodes and everything upstream of them', list)
    .option('--from-inputs <datasets>', 'run the nodes that depend on these datasets', list)
    .option('--to-outputs <datasets>', 'run the nodes needed to produce these datasets', list)
    .option('--tags <tags>', 'run only nodes with any of these tags', list)
    .option('--namespaces <namespaces>', 'run only nodes in these namespaces', list);
}

export async function runCommandAction(io: Io, pipelineName: string | undefined, flags: RunFlags, argv: string[]): Promise<number> {
  const root = path.resolve(io.cwd, flags.project);
  const summary = flags.json ? new RunJsonSummary(io) : null;
  const code = await runAndReport(io, root, pipelineName, flags, argv, summary);
  summary?.print(code);
  return code;
}

async function runAndReport(io: Io, root: string, pipelineName: string | undefined, flags: RunFlags, argv: string[], summary: RunJsonSummary | null): Promise<number> {
  const say: Say = (diagnostics, opts = {}) => {
    summary?.diagnostics(diagnostics, root);
    return report(io, diagnostics, { ...opts, root });
  };
  const controller = new AbortController();
  // The first SIGINT or SIGTERM stops the run after the running nodes (which see it on their context's signal) and
  // records it as KILLED; a second one gets Node's default and ends the process at once.
  const onSignal = (signal: NodeJS.Signals) => controller.abort(signal);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  for (const [flag, given] of [['--task', flags.task !== undefined], ['--finish', flags.finish !== undefined]] as const) {
    if (given && flags.runId === undefined) {
      say([diag('KILN7078', { flag })]);
      return EXIT_INTERNAL;
    }
  }
  const concurrency = flags.parallel === undefined || flags.parallel === false ? 1 : flags.parallel === true ? Math.max(2, os.availableParallelism()) : Math.max(1, Number(flags.parallel) || 1);
  const req: RunRequest = {
    root,
    ...(pipelineName ? { pipeline: pipelineName } : {}),
    filter: { nodes: flags.nodes, fromNodes: flags.fromNodes, toNodes: flags.toNodes, fromInputs: flags.fromInputs, toOutputs: flags.toOutputs, tags: flags.tags, namespaces: flags.namespaces },
    params: flags.params ?? [],
    loadVersions: flags.loadVersion ?? [],
    concurrency,
    useCache: flags.cache,
    command: ['kiln', ...argv],
    reporter: io.isTTY ? ttyReporter(process.stderr, io.colorErr) : plainReporter(io.err),
    signal: controller.signal,
    note: (m) => io.err(`${m}\n`),
  };
  // The git stamp reads the whole working tree; started now, it overlaps with compiling and loading modules.
  const stamping = flags.track ? import('../tracking/git.ts').then((m) => m.gitStamp(root, { exclude: [storeDirOf(root)], cacheFile: path.join(storeDirOf(root), 'cache', 'git-stamp.json') })).catch(() => null) : null;
  try {
    if (flags.runId !== undefined) checkRunKey(flags.runId);
    // A malformed KILN_OBJECTS is the environment's mistake: said before the compile, not after.
    objectsRemoteFromEnv();
    const prepared = await prepareRun(req);
    // A shared run's invocation is the workflow's (its filters); --task only picks this process's share of it.
    const selection = prepared.nodes;
    if (flags.task) prepared.nodes = filterNodes(selection, { nodes: flags.task });
    if (summary) summary.data.pipeline = prepared.pipeline.name;
    if (prepared.warnings.length) say(prepared.warnings, { sources: prepared.sources });
    const requested = flags.backend ?? prepared.ir.settings.backend;
    const backendRequest = usesTensorflow(prepared) ? requested : null;
    const salt = backendInFingerprints(prepared) ? `backend:${requested}` : null;
    const shared = flags.runId === undefined ? null : { key: flags.runId, finishing: flags.finish !== undefined };
    const tracked = flags.track || shared ? await startTracking(prepared, req, say, stamping, invocationOf(prepared, req, flags), shared) : null;
    if (summary && tracked) summary.data.run_id = tracked.recorder.runId;
    try {
      if (shared && tracked) {
        const ctx = { io, prepared, selection, req, flags, tracking: tracked.tracking, runId: tracked.recorder.runId, say };
        if (shared.finishing) return await finishSharedRun(ctx);
        const plan = await taskOfSharedRun(ctx);
        if (plan.toRun.length === 0) return EXIT_OK;
        prepared.nodes = plan.toRun;
        return await runTracked(io, root, prepared, req, flags, backendRequest, salt, tracked, say, summary, plan.upstream);
      }
      return await runTracked(io, root, prepared, req, flags, backendRequest, salt, tracked, say, summary);
    } finally {
      tracked?.close();
    }
  } catch (e) {
    if (isKilnError(e)) return say(e.diagnostics) || EXIT_USER;
    return handleFailure(io, e);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function formatMetrics(metrics: Record<string, number>): string {
  const keys = Object.keys(metrics).sort();
  const w = Math.max(6, ...keys.map((k) => k.length));
  return `\n${'metric'.padEnd(w)}  value\n${'-'.repeat(w)}  ------\n${keys.map((k) => `${k.padEnd(w)}  ${Number.isInteger(metrics[k]) ? metrics[k] : metrics[k].toFixed(4)}`).join('\n')}\n`;
}

type Tracked = Awaited<ReturnType<typeof startTracking>>;

/** Sets up the TensorFlow.js backend: only when a node actually executes, so a run that skips every node never loads it. */
async function setUpBackend(io: Io, request: string, tracked: Tracked | null): Promise<string> {
  const { selectBackend } = await import('../ml/backend.ts');
  const { backendLine } = await import('../ml/backend-line.ts');
  const sel = await selectBackend(request as Parameters<typeof selectBackend>[0]);
  io.err(backendLine(sel, Boolean(process.env.KILN_DEBUG)));
  await tracked?.recorder.setBackend(sel.name, sel.tf.version.tfjs);
  return sel.name;
}

async function runTracked(io: Io, root: string, prepared: PreparedRun, req: RunRequest, flags: RunFlags, backendRequest: string | null, salt: string | null, tracked: Tracked | null, say: Say, summary: RunJsonSummary | null, upstream?: ReadonlyMap<string, Snapshot>): Promise<number> {
  // A task of a shared run records its nodes and leaves the run RUNNING: the workflow's last task ends it.
  const end = async (status: RunStatus, error?: string) => (!tracked ? [] : upstream ? detachedDiagnostics(await tracked.recorder.detach()) : tracked.recorder.end(status, error));
  const producerOf = new Map(prepared.pipeline.nodes.flatMap((n) => n.outputs.map((o) => [o.dataset, n.name] as const)));
  const metrics: Record<string, number> = {};
  let backend: string | null = null;
  let result;
  try {
    result = await executeRun(prepared, req, {
      ...(salt ? { fingerprintSalt: salt } : {}),
      ...(backendRequest
        ? {
            beforeExecution: async (run) => {
              backend = await setUpBackend(io, backendRequest, tracked);
              run.backend = backend;
            },
          }
        : {}),
      ...(tracked ? { runId: tracked.recorder.runId, hooks: [tracked.recorder.hooks], tracker: tracked.tracker } : {}),
      onMetrics: (who, m, step) => {
        // Datasets report under their own name; nodes under theirs.
        if (step === undefined) Object.assign(metrics, m);
        tracked?.recorder.metrics(producerOf.get(who) ?? who, m, step);
      },
      onFile: (node, name, content) => tracked?.recorder.file(node, name, content),
      ...(upstream ? { upstream } : {}),
    });
  } catch (e) {
    if (tracked) say(await end('FAILED', isKilnError(e) ? e.diagnostics[0]?.message : e instanceof Error ? e.message : String(e)));
    throw e;
  }
  if (tracked && backendRequest && backend === null) {
    // Every node was restored from the cache: the run's outputs are those of the runs that computed them.
    const from = result.executions.find((x) => x.reusedFrom)?.reusedFrom;
    const earlier = from ? await tracked.tracking.runs.getRun(from) : null;
    if (earlier?.backend) await tracked.recorder.setBackend(earlier.backend, earlier.versions.tfjs);
  }
  const unrecorded = await end(result.status, result.diagnostics[0]?.message);
  if (unrecorded.length) {
    result.diagnostics.push(...unrecorded);
    if (result.status === 'FINISHED') result.status = 'FAILED';
  }
  // The file-hash state only saves re-reading unchanged inputs next time: a full disk must not fail the run for it.
  await tracked?.tracker.flush().catch((e: unknown) => {
    if (!isDiskFull(e)) throw e;
  });
  // Shared after the record is complete, so that the run stays recorded here whatever the registry does.
  const unshared = tracked ? await shareOutputs(io, tracked, upstream ? { nodes: new Set(prepared.nodes.map((n) => n.name)) } : undefined) : [];
  if (unshared.length && result.status !== 'FINISHED') result.diagnostics.push(...unshared);
  if (summary) {
    summary.data.status = result.status === 'RUNNING' ? 'FAILED' : result.status;
    summary.nodes(prepared.nodes.map((n) => n.name), result.executions);
  }
  if (result.status !== 'FINISHED') return say(result.diagnostics, { sources: prepared.sources }) || EXIT_USER;
  if (upstream && tracked) {
    reportPulled(io, tracked.tracking);
    const cached = result.executions.filter((x) => x.cacheHit).length;
    io.err(`task of run ${tracked.recorder.runId} finished: ${result.executions.length} node(s)${cached ? `, ${cached} skipped as unchanged` : ''}; the run stays RUNNING until its last task (kiln run --finish)\n`);
    // The pods downstream read these outputs from the registry only: a task that could not share them has failed (Argo retries it).
    return unshared.length ? say(unshared) || EXIT_USER : EXIT_OK;
  }
  const model = prepared.pipeline.model;
  if (model && tracked && flags.package) {
    if (model.nodes.every((n) => result.executions.some((x) => x.node === n))) {
      const built = await packageRun(prepared.ir, tracked.tracking, tracked.recorder.runId).catch((e: unknown) =>
        rethrowStoreFull(e, path.join(root, prepared.ir.settings.storeDir), `building the artifact of model '${model.name}'`),
      );
      io.err(describeArtifact(io, root, built));
      summary?.artifact(built, (await tracked.tracking.runs.getRun(tracked.recorder.runId)).tags[`digest.${model.name}`] ?? null);
    } else {
      io.err(`no artifact built: this run did not include the whole inference path of model '${model.name}' (${model.nodes.join(', ')})\n`);
    }
  }
  // Metrics of the whole run, those replayed from skipped nodes included.
  // Metrics with a history (per-epoch training curves) stay in the run record; the summary shows the final ones.
  if (tracked) for (const [k, m] of Object.entries((await tracked.tracking.runs.getRun(tracked.recorder.runId)).metrics)) if (m.historyLength <= 1) metrics[k] = m.value;
  if (summary) summary.data.metrics = metrics;
  else if (Object.keys(metrics).length) io.out(formatMetrics(metrics));
  const ran = result.executions.length;
  const cached = result.executions.filter((x) => x.cacheHit).length;
  // Every pull of the run, the artifact build's included: what this machine fetched because it needed it.
  if (tracked) reportPulled(io, tracked.tracking);
  io.err(`${tracked ? `run ${tracked.recorder.runId}` : 'run (not tracked)'} finished: ${ran} node(s)${cached ? `, ${cached === ran ? 'all' : cached} skipped as unchanged` : ''}\n`);
  // The run is recorded and its outputs are here; only sharing them failed, and that is the user's to retry.
  if (unshared.length) return say(unshared) || EXIT_USER;
  return EXIT_OK;
}

/** Pushes what the run's nodes wrote to the objects repository, when there is one; KILN4045 when some of it did not get there. */

async function shareOutputs(io: Io, tracked: Tracked, task?: TaskShare): Promise<Diagnostic[]> {
  const remote = tracked.tracking.remote;
  if (!remote || !tracked.remoteRef) return [];
  const { OciClient } = await import('../oci/client.ts');
  const { pushRunObjects } = await import('../tracking/remote-push.ts');
  const run = await tracked.tracking.runs.getRun(tracked.recorder.runId);
  const outcome = await pushRunObjects(run, remote.local, new OciClient(tracked.remoteRef, { push: true }), task);
  if (outcome.failed.length === 0) {
    if (outcome.manifest) io.err(`shared ${outcome.objects} object(s) through ${outcome.remote}:${outcome.tag}: ${outcome.uploaded} uploaded (${bytes(outcome.uploadedBytes)}), ${outcome.present} already there\n`);
    return [];
  }
  const owners = [...new Set(outcome.failed.map((f) => f.owner))];
  const shown = owners.length > 6 ? `${owners.slice(0, 6).join(', ')} and ${owners.length - 6} more` : owners.join(', ');
  return [diag('KILN4045', { run: run.id, count: outcome.failed.length, remote: outcome.remote, outputs: shown, reason: outcome.failed[0].reason, tag: outcome.tag })];
}

/** What of this run departs from the committed declarations, kept with the run for `kiln publish` to judge. */
function invocationOf(prepared: PreparedRun, req: RunRequest, flags: RunFlags): RunInvocation {
  const filter: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(req.filter)) if (Array.isArray(v) && v.length) filter[k] = v;
  // --backend only counts where a backend is set up: a pipeline without TensorFlow.js ignores it.
  const backend = usesTensorflow(prepared) ? (flags.backend ?? null) : null;
  return { params: prepared.params.applied, loadVersions: prepared.loadVersions, filter, backend, cache: flags.cache };
}

type Stamp = Awaited<ReturnType<typeof import('../tracking/git.ts').gitStamp>>;

async function startTracking(prepared: PreparedRun, req: RunRequest, say: Say, stamping: Promise<Stamp | null> | null, invocation: RunInvocation, shared: { key: string; finishing: boolean } | null = null) {
  const { openProjectTracking } = await import('../tracking/index.ts');
  const { gitStamp } = await import('../tracking/git.ts');
  const { RunRecorder } = await import('../tracking/recorder.ts');
  const { ObjectStoreTracker } = await import('../runtime/cache.ts');
  const storeDir = path.join(req.root, prepared.ir.settings.storeDir);
  const remoteRef = objectsRemoteOf(prepared.ir.settings);
  const tracking = (await openProjectTracking(req.root, { create: true, objectsRemote: remoteRef }))!;
  try {
    const early = storeDir === storeDirOf(req.root) ? await stamping : null;
    const { stamp, diagnostics } = early ?? (await gitStamp(req.root, { exclude: [storeDir], cacheFile: path.join(storeDir, 'cache', 'git-stamp.json') }));
    if (diagnostics.length) say(diagnostics);
    const start = {
      pipeline: prepared.pipeline.name,
      command: req.command,
      git: stamp,
      versions: { kiln: kilnVersion, node: process.versions.node, tfjs: null },
      backend: null,
      params: prepared.params.values,
      invocation,
    };
    let recorder: import('../tracking/recorder.ts').RunRecorder;
    if (shared) {
      const joined = await RunRecorder.join(tracking.runs, shared.key, start);
      recorder = joined.recorder;
      if (!joined.created) {
        const run = await tracking.runs.getRun(recorder.runId);
        // The process that finishes the run decides itself what an ended run means to it.
        if (!shared.finishing || run.status === 'RUNNING') checkJoinable(run, shared.key, prepared.pipeline.name, stamp);
        // Parameters are write-once: a task given other values than the run was started with is refused (KILN4004).
        if (run.status === 'RUNNING') await tracking.runs.logParams(recorder.runId, prepared.params.values);
      }
    } else {
      recorder = await RunRecorder.start(tracking.runs, start);
    }
    const tracker = new ObjectStoreTracker(req.root, tracking.runs, tracking.objects, path.join(storeDir, 'cache', 'file-hashes.json'));
    return { tracking, recorder, tracker, remoteRef, close: () => tracking.close() };
  } catch (e) {
    // No run was started (or recording it failed): the caller only closes what it got back.
    tracking.close();
    throw e;
  }
}

export const runCommand: CommandModule = {
  register(program, io, setExit) {
    const cmd = program
      .command('run [pipeline]')
      .description('run a pipeline (compiling it first), record the run, and build its model artifact')
      .option('--project <dir>', 'project root (the folder with kiln.yaml)', '.');
    addFilterOptions(cmd)
      .option('--params <key=value,...>', 'override parameters (dotted keys), e.g. --params train.epochs=5,seed=7', repeat)
      .option('--load-version <dataset:version>', 'load this version of a versioned dataset', repeat)
      .option('--backend <name>', 'TensorFlow.js backend: auto, tfjs-node-gpu, webgpu, tfjs-node, wasm, cpu')
      .option('--parallel [n]', 'run independent nodes concurrently (n at a time; all cores by default)')
      .option('--no-cache', 'run every node, even when nothing it depends on changed')
      .option('--no-track', 'do not record the run in the store')
      .option('--no-package', 'do not build the model artifact after the run')
      .option('--json', 'print a summary of the run as JSON on stdout (run id, status, nodes, metrics, artifact, diagnostics); progress stays on stderr')
      .option('--run-id <key>', 'record into the run that several processes share under this key (an Argo workflow uid): the first creates it, the others add their nodes; it ends with --finish')
      .option('--task <names>', 'with --run-id: run only these nodes of the selection (one task of the workflow); inputs other tasks produced come from the store', list)
      .option('--finish [status]', "with --run-id: run no node, end the shared run: FINISHED (and build the artifact) if every selected node finished, else FAILED with a resume hint; a status other than 'Succeeded' (Argo's {{workflow.status}}) fails it")
      .action(async (pipelineName: string | undefined, flags: RunFlags) => {
        // The arguments main() parsed (commander keeps them, untyped): process.argv is another command line when
        // main() is called in-process, and the resume hint repeats this one.
        const parsed = (program as unknown as { rawArgs?: string[] }).rawArgs;
        setExit(runCommandAction(io, pipelineName, flags, (parsed?.length ? parsed : process.argv).slice(2)));
      });
  },
};
