// Runs the nodes of a compiled pipeline: deterministic order (or concurrently with a bound), loads and saves through
// the catalog, releases in-memory data after its last reader, fingerprints nodes and skips unchanged ones.
import { createHash } from 'node:crypto';
import { diag, KilnError, isKilnError } from '../diagnostics/diagnostic.ts';
import { didYouMean } from '../diagnostics/didyoumean.ts';
import type { Diagnostic } from '../diagnostics/types.ts';
import { freeInputs, terminalOutputs, buildGraph, NameHeap } from '../ir/graph.ts';
import { isParam, parameterValue, PARAMS } from '../ir/parameter-tree.ts';
import { datasetDeclaration } from '../ir/declaration.ts';
import { datasetOf } from '../ir/dataset-of.ts';
import type { JsonValue, NodeIR, ProjectIR } from '../ir/types.ts';
import type { CompiledPipelineModule, CompiledNode } from './compiled.ts';
import { withNodeContext, type NodeContext } from './context.ts';
import { createDataset, type Dataset, type DatasetEnv, type DatasetFactory } from './datasets/index.ts';
import { userStack } from './failure.ts';
import type { Hooks, NodeExecution, RunInfo, RunStatus } from './hooks.ts';
import { silentReporter, type RunReporter } from './progress.ts';
import { resumeHint } from './resume.ts';
import { rethrowDatasetFull } from '../tracking/disk-full.ts';
import { removeStaleTemps } from './atomic.ts';
import path from 'node:path';
import type { ContentTracker, Snapshot } from './tracker.ts';

export interface RunOptions {
  ir: ProjectIR;
  /**
   * The generated pipeline module, or how to import it: then it is imported (and checked against the IR) only when a
   * node actually executes, so that a run that skips every node loads none of the project's code.
   */
  module: CompiledPipelineModule | (() => Promise<CompiledPipelineModule>);
  /** The nodes to run (a filter already applied), in topological order. */
  nodes: NodeIR[];
  /** Parameter tree after overrides. */
  params: Record<string, JsonValue>;
  datasetEnv: DatasetEnv;
  /** Makes the dataset for a catalog entry; `createDataset` by default (tests and embedders wrap or replace it). */
  datasetFactory?: DatasetFactory;
  /** Versions pinned with --load-version, by dataset. */
  loadVersions?: Record<string, string>;
  run: RunInfo;
  hooks?: Hooks[];
  tracker?: ContentTracker | null;
  /** Skip nodes whose fingerprint matches an earlier execution (needs a tracker). */
  useCache?: boolean;
  /** How many nodes may run at once; 1 runs them one after the other. */
  concurrency?: number;
  reporter?: RunReporter;
  signal?: AbortSignal;
  /** Sinks for what nodes report through their context. */
  onMetrics?: (node: string, metrics: Record<string, number>, step?: number) => void;
  onFile?: (node: string, name: string, content: string | Uint8Array) => void;
  /** Mixed into every fingerprint: what else decides outputs (the backend asked for, for a TensorFlow.js pipeline). */
  fingerprintSalt?: string;
  /** Called once, before the first node that actually executes (not restored from the cache): sets up a backend lazily. */
  beforeExecution?: () => Promise<void>;
  /**
   * Inputs another process of the same shared run produced, restored from the object store instead of read where
   * they lie (a pod of an Argo workflow shares nothing else with the others). Needs a tracker.
   */
  upstream?: ReadonlyMap<string, Snapshot>;
}

export interface RunResult {
  status: RunStatus;
  executions: NodeExecution[];
  diagnostics: Diagnostic[];
  /** Datasets created during the run, by name (the artifact builder reads fitted state through them). */
  datasets: Map<string, Dataset<unknown>>;
}

const hashOf = (s: string) => createHash('sha256').update(s).digest('hex');

/** Canonical JSON: object keys sorted, so the same parameters always hash the same. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v as object).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

export async function runNodes(opts: RunOptions): Promise<RunResult> {
  const { ir, nodes } = opts;
  const hooks = opts.hooks ?? [];
  const reporter = opts.reporter ?? silentReporter;
  const tracker = opts.tracker ?? null;
  const useCache = Boolean(opts.useCache && tracker);
  const concurrency = Math.max(1, opts.concurrency ?? 1);
  const executions: NodeExecution[] = [];
  const diagnostics: Diagnostic[] = [];
  const datasets = new Map<string, Dataset<unknown>>();
  const hashes = new Map<string, string>();
  const pendingRestore = new Map<string, Snapshot>();
  /** Missing file outputs of skipped nodes whose objects are on a remote: pulled and restored by their first reader, if any. */
  const pendingFileRestore = new Map<string, Snapshot>();
  const restoring = new Map<string, Promise<void>>();
  const done = new Set<string>();

  const dataset = (name: string): Dataset<unknown> => {
    let d = datasets.get(name);
    if (!d) {
      const pinned = opts.loadVersions?.[name];
      d = (opts.datasetFactory ?? createDataset)(datasetOf(ir, name), pinned ? { ...opts.datasetEnv, loadVersion: pinned } : opts.datasetEnv);
      datasets.set(name, d);
    }
    return d;
  };
  const persisted = (name: string) => {
    const e = ir.datasets[name];
    return e !== undefined && e.type !== 'memory';
  };

  // Check the compiled table against the IR (before running anything when the module is at hand, else once it is
  // imported), and the pipeline's free inputs against the catalog.
  const same = (a: readonly string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  const checked = (module: CompiledPipelineModule): Map<string, CompiledNode> => {
    const table = new Map<string, CompiledNode>();
    for (const n of nodes) {
      const c = module.nodes[n.name];
      if (!c || !same(c.inputs, n.inputs.map((i) => i.dataset)) || !same(c.outputs, n.outputs.map((o) => o.dataset))) {
        throw new KilnError(diag('KILN3012', { pipeline: module.pipeline, problem: c ? `node '${n.name}' has other inputs or outputs` : `node '${n.name}' is missing` }));
      }
      table.set(n.name, c);
    }
    return table;
  };
  const given = opts.module;
  let table: Map<string, CompiledNode> | null = typeof given === 'function' ? null : checked(given);
  let importing: Promise<Map<string, CompiledNode>> | undefined;
  const importTable = async (): Promise<Map<string, CompiledNode>> => (table ??= await (importing ??= (given as () => Promise<CompiledPipelineModule>)().then(checked)));
  const inputs = freeInputs(nodes);
  const problems: Diagnostic[] = [];
  const allNodes = Object.values(ir.pipelines).flatMap((p) => p.nodes);
  for (const [d, snap] of opts.upstream ?? []) {
    if (!tracker || !inputs.includes(d)) continue;
    if (persisted(d)) {
      const current = await tracker.snapshotFiles(dataset(d), false);
      if (current?.hash !== snap.hash) await tracker.restoreFiles(dataset(d), snap).catch((e: unknown) => rethrowDatasetFull(e, d, ir.datasets[d]?.path ?? d, path.resolve(opts.datasetEnv.root, ir.datasets[d]?.path ?? d), 'restoring'));
    } else {
      pendingRestore.set(d, snap);
    }
    hashes.set(d, snap.hash);
  }
  for (const d of inputs) {
    if (tracker && opts.upstream?.has(d)) continue;
    const reader = nodes.find((n) => n.inputs.some((i) => i.dataset === d))!;
    if (!ir.datasets[d]) {
      const suggestion = didYouMean(d, Object.keys(ir.datasets));
      problems.push(diag('KILN3001', { dataset: d, node: reader.name, suggestion: suggestion.replace(/^ did/, ' Did') }, reader.inputs.find((i) => i.dataset === d)?.location));
      continue;
    }
    if (!(await dataset(d).exists())) {
      const producer = allNodes.find((n) => n.outputs.some((o) => o.dataset === d));
      const entry = ir.datasets[d];
      const pinned = opts.loadVersions?.[d];
      problems.push(diag('KILN3002', {
        dataset: d,
        where: entry.path ? `${entry.type} at ${entry.path}${pinned ? `, version ${pinned}` : ''}` : `a ${entry.type} dataset, which lives only during a run`,
        fix: pinned
          ? `No version '${pinned}' of '${d}' was saved; --load-version must name a version folder under ${entry.path}.`
          : producer
            ? `It is produced by node '${producer.name}'; run that node first (for example without --from-nodes, or with --to-outputs ${d}).`
            : `Put the data at ${entry.path ?? 'its path'} first; no node produces it.`,
      }, reader.inputs.find((i) => i.dataset === d)?.location));
    }
  }
  if (problems.length) throw new KilnError(problems);

  const shownPath = (name: string) => ir.datasets[name]?.path ?? name;

  // A save or restore killed half-way leaves a temporary beside its dataset; those of dead processes go now, even for
  // a dataset this run only restores or reads (a save sweeps its own, but a skipped node never saves).
  for (const name of new Set(nodes.flatMap((n) => n.outputs.map((o) => o.dataset)))) {
    const entry = ir.datasets[name];
    if (entry?.path && !entry.versioned) await removeStaleTemps(path.resolve(opts.datasetEnv.root, entry.path));
  }

  // Kedro's release order: an in-memory dataset is dropped once its last reader in this run has finished.
  const loadCounts = new Map<string, number>();
  for (const n of nodes) for (const i of n.inputs) if (!isParam(i.dataset)) loadCounts.set(i.dataset, (loadCounts.get(i.dataset) ?? 0) + 1);
  const pipelineInputs = new Set(inputs);
  const pipelineOutputs = new Set(terminalOutputs(nodes));
  const paramCache = new Map<string, unknown>();
  const param = (ref: string) => {
    if (!paramCache.has(ref)) paramCache.set(ref, parameterValue(opts.params, ref.slice(PARAMS.length)));
    return paramCache.get(ref);
  };

  const call = async <K extends keyof Hooks>(name: K, event: Parameters<NonNullable<Hooks[K]>>[0]) => {
    for (const h of hooks) {
      const fn = h[name] as ((e: unknown) => void | Promise<void>) | undefined;
      if (fn) await fn.call(h, event);
    }
  };

  const load = async (node: string, name: string): Promise<unknown> => {
    if (hooks.length) await call('beforeDatasetLoaded', { run: opts.run, node, dataset: name });
    const start = hooks.length ? performance.now() : 0;
    // A skipped node's in-memory output is restored by its first reader; readers running beside it wait for that.
    const pending = pendingRestore.get(name);
    if (pending) {
      pendingRestore.delete(name);
      restoring.set(name, tracker!.restoreValue(pending).then((v) => dataset(name).save(v)));
    }
    const pendingFile = pendingFileRestore.get(name);
    if (pendingFile) {
      pendingFileRestore.delete(name);
      restoring.set(name, restoreOutput(name, pendingFile));
    }
    const restore = restoring.get(name);
    if (restore) await restore;
    const value = await dataset(name).load();
    if (hooks.length) await call('afterDatasetLoaded', { run: opts.run, node, dataset: name, data: value, durationMs: performance.now() - start });
    return value;
  };

  const restoreOutput = (name: string, snap: Snapshot): Promise<void> =>
    tracker!.restoreFiles(dataset(name), snap).catch((e: unknown) => rethrowDatasetFull(e, name, shownPath(name), path.resolve(opts.datasetEnv.root, shownPath(name)), 'restoring'));

  /** The content hash of an input, or null when its content cannot be hashed (a value v8 cannot serialize). */
  const inputHash = async (name: string): Promise<string | null> => {
    let h = hashes.get(name);
    if (h === undefined) {
      const snap = await tracker!.snapshotFiles(dataset(name), false);
      if (!snap) return null;
      h = snap.hash;
      hashes.set(name, h);
    }
    return h;
  };

  /** A node's fingerprint; null when an input's content is unknown, so that the node is never skipped on a guess. */
  const fingerprintOf = async (n: NodeIR): Promise<{ fingerprint: string | null; inputs: Record<string, string> }> => {
    const inputHashes: Record<string, string> = {};
    const params: Record<string, unknown> = {};
    let unknown = false;
    for (const i of n.inputs) {
      if (isParam(i.dataset)) params[i.dataset] = param(i.dataset);
      else {
        const h = await inputHash(i.dataset);
        if (h === null) unknown = true;
        else inputHashes[i.dataset] = h;
      }
    }
    if (unknown) return { fingerprint: null, inputs: inputHashes };
    const code = await tracker!.codeHash(n);
    // Each dataset's declaration rides along: an input's decides how its bytes are read, an output's which bytes are
    // written and how the next run reads them (a jsonl output redeclared as json must not restore jsonl bytes).
    const declared = (name: string) => datasetDeclaration(ir.datasets[name]);
    const fingerprint = hashOf(canonicalJson({ salt: opts.fingerprintSalt ?? '', code, fn: n.func.export, inputForm: n.inputForm, inputs: n.inputs.map((i) => (isParam(i.dataset) ? [i.key, i.dataset, null] : [i.key, i.dataset, inputHashes[i.dataset], declared(i.dataset)])), params, outputForm: n.outputForm, outputs: n.outputs.map((o) => [o.key, o.dataset, declared(o.dataset)]) }));
    return { fingerprint, inputs: inputHashes };
  };

  const release = (n: NodeIR) => {
    for (const i of n.inputs) {
      if (isParam(i.dataset)) continue;
      const left = (loadCounts.get(i.dataset) ?? 0) - 1;
      loadCounts.set(i.dataset, left);
      if (left < 1 && !pipelineInputs.has(i.dataset)) datasets.get(i.dataset)?.release?.();
    }
    for (const o of n.outputs) {
      if ((loadCounts.get(o.dataset) ?? 0) < 1 && !pipelineOutputs.has(o.dataset)) datasets.get(o.dataset)?.release?.();
    }
  };

  let preparing: Promise<void> | undefined;
  const total = nodes.length;
  let started = 0;
  // One signal for every node of the run (creating an AbortController per node cost more than the rest of a trivial node).
  const signal = opts.signal ?? new AbortController().signal;
  const runOne = async (n: NodeIR): Promise<void> => {
    const index = ++started;
    const startedAt = Date.now();
    const t0 = performance.now();
    reporter.nodeStart(index, total, n.name);
    const execution: NodeExecution = { node: n.name, status: 'done', startedAt, endedAt: startedAt, fingerprint: null, cacheHit: false, inputs: {}, outputs: {}, snapshots: {} };
    try {
      if (tracker) {
        const fp = await fingerprintOf(n);
        execution.fingerprint = fp.fingerprint;
        execution.inputs = fp.inputs;
        const found = useCache && fp.fingerprint !== null ? await tracker.lookup(n.name, fp.fingerprint) : null;
        // Usable only when every output of the node has a stored snapshot to restore.
        const hit = found && n.outputs.every((o) => found.outputs[o.dataset]?.ref) ? found : null;
        if (hit) {
          for (const o of n.outputs) {
            const snap = hit.outputs[o.dataset];
            if (persisted(o.dataset)) {
              const current = await tracker.snapshotFiles(dataset(o.dataset), false);
              if (!current && tracker.restorableHere && !(await tracker.restorableHere(snap))) {
                // Pulling it from the remote costs a download: only a node that runs and reads it pays for that.
                pendingFileRestore.set(o.dataset, snap);
              } else if (current?.hash !== snap.hash) {
                await restoreOutput(o.dataset, snap);
                // A missing file is simply put back; a different one was most likely edited by hand, and that edit is now gone.
                if (current) {
                  (execution.restored ??= []).push(o.dataset);
                  reporter.nodeLog(n.name, `restored ${ir.datasets[o.dataset]?.path ?? o.dataset}: it differed from what node '${n.name}' produced (hand edits of a node's output are overwritten; change the node or its inputs)`);
                }
              }
            } else {
              pendingRestore.set(o.dataset, snap);
            }
            hashes.set(o.dataset, snap.hash);
            execution.outputs[o.dataset] = snap.hash;
            if (snap.ref) execution.snapshots[o.dataset] = snap.ref;
          }
          execution.status = 'cached';
          execution.reusedFrom = hit.runId;
          execution.reusedOutputs = {};
          for (const [name, snap] of Object.entries(hit.outputs)) if (snap.ref) execution.reusedOutputs[name] = { sha256: snap.hash, object: snap.ref };
          execution.cacheHit = true;
          execution.endedAt = Date.now();
          execution.durationMs = performance.now() - t0;
          executions.push(execution);
          done.add(n.name);
          release(n);
          if (hooks.length) await call('afterNodeRun', { run: opts.run, node: n.name, inputs: {}, outputs: {}, durationMs: performance.now() - t0, cached: true, execution });
          reporter.nodeEnd(n.name, 'cached', performance.now() - t0);
          return;
        }
      }
      reporter.nodeRunning?.(n.name);
      // No await once the table is at hand: an await per node is measurable in a chain of trivial nodes.
      const fn = (table ?? (await importTable())).get(n.name)!;
      if (opts.beforeExecution) await (preparing ??= opts.beforeExecution());
      const values: Record<string, unknown> = {};
      for (const i of n.inputs) values[i.dataset] = isParam(i.dataset) ? param(i.dataset) : await load(n.name, i.dataset);
      if (hooks.length) await call('beforeNodeRun', { run: opts.run, node: n.name, inputs: values, fingerprint: execution.fingerprint });
      const ctx: NodeContext = {
        node: n.name,
        runId: opts.run.runId,
        backend: opts.run.backend,
        signal,
        progress: (d, t, info) => reporter.nodeProgress(n.name, d, t, info),
        logMetrics: (m, step) => opts.onMetrics?.(n.name, m, step),
        logFile: (name, content) => opts.onFile?.(n.name, name, content),
        log: (message) => reporter.nodeLog(n.name, message),
      };
      const outputs = await withNodeContext(ctx, () => fn.run(values));
      for (const o of n.outputs) {
        const value = outputs[o.dataset];
        if (value === undefined) throw new KilnError(diag('KILN3004', { node: n.name, dataset: o.dataset }, o.location));
        if (hooks.length) await call('beforeDatasetSaved', { run: opts.run, node: n.name, dataset: o.dataset, data: value });
        const s0 = hooks.length ? performance.now() : 0;
        await dataset(o.dataset).save(value).catch((e: unknown) => rethrowDatasetFull(e, o.dataset, shownPath(o.dataset), path.resolve(opts.datasetEnv.root, shownPath(o.dataset)), 'saving'));
        if (hooks.length) await call('afterDatasetSaved', { run: opts.run, node: n.name, dataset: o.dataset, data: value, durationMs: performance.now() - s0 });
        if (tracker) {
          const snap = persisted(o.dataset) ? await tracker.snapshotFiles(dataset(o.dataset), true) : await tracker.snapshotValue(value, true);
          if (snap) {
            hashes.set(o.dataset, snap.hash);
            execution.outputs[o.dataset] = snap.hash;
            if (snap.ref) execution.snapshots[o.dataset] = snap.ref;
          }
        }
      }
      execution.endedAt = Date.now();
      execution.durationMs = performance.now() - t0;
      executions.push(execution);
      done.add(n.name);
      release(n);
      if (hooks.length) await call('afterNodeRun', { run: opts.run, node: n.name, inputs: values, outputs, durationMs: performance.now() - t0, cached: false, execution });
      reporter.nodeEnd(n.name, 'done', performance.now() - t0);
    } catch (e) {
      execution.status = 'failed';
      execution.endedAt = Date.now();
      execution.durationMs = performance.now() - t0;
      const { message, stack } = userStack(e, `${ir.settings.root}/${ir.settings.generatedDir}`);
      execution.error = message;
      // An afterNodeRun hook can fail after the node was counted as done: it is not done, and is recorded once.
      done.delete(n.name);
      if (!executions.includes(execution)) executions.push(execution);
      reporter.nodeEnd(n.name, 'failed', performance.now() - t0);
      // A hook that throws here must not replace the node's failure: both are reported.
      let hookError: unknown;
      if (hooks.length) await call('onNodeError', { run: opts.run, node: n.name, error: e }).catch((he: unknown) => (hookError = he));
      throw new NodeFailure(n.name, e, message, stack, hookError);
    }
  };

  let failure: NodeFailure | null = null;
  let interrupted = false;
  if (concurrency === 1) {
    for (const n of nodes) {
      if (opts.signal?.aborted) {
        interrupted = true;
        break;
      }
      try {
        await runOne(n);
      } catch (e) {
        failure = e as NodeFailure;
        break;
      }
    }
  } else {
    ({ failure, interrupted } = await runConcurrently(nodes, concurrency, runOne, opts.signal));
  }

  // A map, not executions.find per node: that was quadratic in the number of nodes.
  const byNode = new Map<string, NodeExecution>();
  for (const x of executions) if (!byNode.has(x.node)) byNode.set(x.node, x);
  const rows = nodes.map((n) => {
    const ex = byNode.get(n.name);
    return { node: n.name, status: ex ? ex.status : ('not run' as const), ms: ex ? (ex.durationMs ?? ex.endedAt - ex.startedAt) : null };
  });
  reporter.finish(rows);

  if (failure || interrupted) {
    const hint = resumeHint(nodes, done, persisted, opts.run.command);
    if (failure) {
      if (isKilnError(failure.cause)) {
        for (const d of failure.cause.diagnostics) diagnostics.push({ ...d, hint: `${d.hint ? `${d.hint}\n  ` : ''}${hint}` });
      } else {
        diagnostics.push(diag('KILN3003', { node: failure.node, error: failure.message, resume: hint }, nodes.find((n) => n.name === failure!.node)?.location, failure.userStack || undefined));
      }
      const he = failure.hookError;
      if (he !== undefined) diagnostics.push(...(isKilnError(he) ? he.diagnostics : [diag('KILN3011', { hook: 'onNodeError', ref: '(runner hooks)', error: he instanceof Error ? he.message : String(he) })]));
    } else {
      const reason: unknown = opts.signal?.reason;
      diagnostics.push(diag('KILN3010', { signal: typeof reason === 'string' && reason.startsWith('SIG') ? reason : 'SIGINT', running: 'the pipeline', resume: hint }));
    }
    return { status: interrupted && !failure ? 'KILLED' : 'FAILED', executions, diagnostics, datasets };
  }
  return { status: 'FINISHED', executions, diagnostics, datasets };
}

export class NodeFailure extends Error {
  constructor(
    readonly node: string,
    override readonly cause: unknown,
    message: string,
    readonly userStack: string,
    /** What an onNodeError hook threw while the failure was reported, if anything. */
    readonly hookError?: unknown,
  ) {
    super(message);
  }
}

/** Runs ready nodes as soon as their parents are done, at most `limit` at a time, the ready set sorted by name. */
async function runConcurrently(nodes: NodeIR[], limit: number, runOne: (n: NodeIR) => Promise<void>, signal?: AbortSignal): Promise<{ failure: NodeFailure | null; interrupted: boolean }> {
  const graph = buildGraph(nodes);
  const waiting = new Map(nodes.map((n) => [n.name, graph.parents.get(n.name)!.size]));
  // A heap, not a list sorted after each push: a node that frees thousands of others would make that quadratic.
  const ready = new NameHeap();
  for (const n of nodes) if (waiting.get(n.name) === 0) ready.push(n.name);
  const running = new Set<Promise<void>>();
  let failure: NodeFailure | null = null;
  let interrupted = false;
  while (ready.size || running.size) {
    while (!failure && !interrupted && ready.size && running.size < limit) {
      if (signal?.aborted) {
        interrupted = true;
        break;
      }
      const name = ready.pop();
      const p: Promise<void> = runOne(graph.byName.get(name)!)
        .then(() => {
          for (const c of graph.children.get(name)!) {
            const left = waiting.get(c)! - 1;
            waiting.set(c, left);
            if (left === 0) ready.push(c);
          }
        })
        .catch((e: unknown) => {
          failure ??= e as NodeFailure;
        })
        .finally(() => running.delete(p));
      running.add(p);
    }
    if (running.size === 0) break;
    await Promise.race(running);
  }
  return { failure, interrupted };
}
