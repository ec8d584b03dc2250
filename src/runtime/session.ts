// `kiln run` front to back: compile (writing generated/ when stale), pick the pipeline and nodes, apply parameter
// overrides, set up the TensorFlow.js backend, load hooks, run, and hand the result to tracking and packaging.
import path from 'node:path';
import { buildForRun } from '../build-cache.ts';
import { diag, KilnError } from '../diagnostics/diagnostic.ts';
import { didYouMean } from '../diagnostics/didyoumean.ts';
import type { Diagnostic } from '../diagnostics/types.ts';
import { filterNodes, type NodeFilter } from '../ir/filter.ts';
import { nodesUseTensorflow } from './backend-use.ts';
import type { PipelineIR, ProjectIR } from '../ir/types.ts';
import type { CompiledPipelineModule } from './compiled.ts';
import { newSaveVersion } from './datasets/index.ts';
import type { Hooks, RunInfo } from './hooks.ts';
import { loadHooks } from './load-hooks.ts';
import { importProjectModule } from './project-module.ts';
import { applyOverrides } from './params.ts';
import type { RunReporter } from './progress.ts';
import { runNodes, type RunResult } from './runner.ts';
import type { ContentTracker, Snapshot } from './tracker.ts';
import { flattenParameters } from '../ir/parameter-tree.ts';
import { randomUUID } from 'node:crypto';

export interface RunRequest {
  root: string;
  pipeline?: string;
  filter: NodeFilter;
  params: string[];
  loadVersions: string[];
  concurrency: number;
  useCache: boolean;
  command: string[];
  reporter: RunReporter;
  signal?: AbortSignal;
  /** Called with notes for the user (generated code rewritten, backend chosen...). */
  note: (message: string) => void;
}

export interface PreparedRun {
  ir: ProjectIR;
  pipeline: PipelineIR;
  /**
   * The generated pipeline module, imported on first call: a run that skips every node never imports the project's
   * code (nor registers the TypeScript loader for it).
   */
  module: () => Promise<CompiledPipelineModule>;
  nodes: PipelineIR['nodes'];
  params: ReturnType<typeof applyOverrides>;
  loadVersions: Record<string, string>;
  hooks: Hooks[];
  warnings: Diagnostic[];
  sources: ReadonlyMap<string, string>;
}

export function choosePipeline(ir: ProjectIR, name?: string): PipelineIR {
  const names = Object.keys(ir.pipelines).sort();
  if (name !== undefined) {
    const p = ir.pipelines[name];
    if (!p) throw new KilnError(diag('KILN2014', { name, suggestion: didYouMean(name, names), known: names.join(', ') || '(none)' }));
    return p;
  }
  if (names.length === 1) return ir.pipelines[names[0]];
  const withModel = names.filter((n) => ir.pipelines[n].model);
  if (withModel.length === 1) return ir.pipelines[withModel[0]];
  throw new KilnError(diag('KILN2014', { name: '(none given)', suggestion: '', known: names.join(', ') || '(none)' }));
}

export function parseLoadVersions(ir: ProjectIR, args: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const arg of args.flatMap((a) => a.split(','))) {
    const i = arg.indexOf(':');
    if (i <= 0 || i === arg.length - 1) throw new KilnError(diag('KILN3008', { arg, problem: 'expected <dataset>:<version>' }));
    const name = arg.slice(0, i);
    const entry = ir.datasets[name];
    if (!entry) throw new KilnError(diag('KILN3008', { arg, problem: `no catalog dataset '${name}'.${didYouMean(name, Object.keys(ir.datasets))}` }));
    if (!entry.versioned) throw new KilnError(diag('KILN3008', { arg, problem: `dataset '${name}' is not versioned` }));
    out[name] = arg.slice(i + 1);
  }
  return out;
}

/** Compiles and checks everything a run needs; throws KilnError with every problem found. */
export async function prepareRun(req: RunRequest): Promise<PreparedRun> {
  const build = await buildForRun(req.root);
  const ir = build.ir;
  const diff = build.rewritten;
  if (diff.changed.length || diff.removed.length) req.note(`generated/ was stale: rewrote ${diff.changed.length} file(s)${diff.removed.length ? `, removed ${diff.removed.length}` : ''} (commit them)`);
  const pipeline = choosePipeline(ir, req.pipeline);
  const nodes = filterNodes(pipeline.nodes, req.filter);
  const params = applyOverrides(ir.parameters.values, req.params);
  const loadVersions = parseLoadVersions(ir, req.loadVersions);
  const hooks = await loadHooks(ir.settings);
  const modulePath = path.join(req.root, build.pipelineModules[pipeline.name]);
  let importing: Promise<CompiledPipelineModule> | undefined;
  const module = () => (importing ??= importProjectModule(modulePath) as Promise<CompiledPipelineModule>);
  return { ir, pipeline, module, nodes, params, loadVersions, hooks, warnings: build.warnings, sources: build.sources };
}

/** Whether the nodes selected to run use TensorFlow.js (a model dataset, or node code importing it), so the backend is set up only then. */
export function usesTensorflow(prepared: PreparedRun): boolean {
  return nodesUseTensorflow(prepared.ir, prepared.nodes, prepared.sources);
}

/**
 * Whether the backend is part of the fingerprints: decided by the whole pipeline, not by the nodes a filter selects,
 * so that a filtered run and a full run give the same node the same fingerprint (and `kiln plan` can tell).
 */
export function backendInFingerprints(prepared: PreparedRun): boolean {
  return nodesUseTensorflow(prepared.ir, prepared.pipeline.nodes, prepared.sources);
}

export async function executeRun(prepared: PreparedRun, req: RunRequest, extra: { runId?: string; hooks?: Hooks[]; tracker?: ContentTracker | null; fingerprintSalt?: string; beforeExecution?: (run: RunInfo) => Promise<void>; onMetrics?: (node: string, m: Record<string, number>, step?: number) => void; onFile?: (node: string, name: string, content: string | Uint8Array) => void; upstream?: ReadonlyMap<string, Snapshot> }): Promise<RunResult & { run: RunInfo }> {
  const run: RunInfo = {
    runId: extra.runId ?? randomUUID(),
    pipeline: prepared.pipeline.name,
    projectRoot: req.root,
    nodes: prepared.nodes.map((n) => n.name),
    params: flattenParameters(prepared.params.values),
    command: req.command,
    // Set by `beforeExecution` once a node needs the backend (a run that skips every node never sets one up).
    backend: null,
  };
  const hooks = [...(extra.hooks ?? []), ...prepared.hooks];
  for (const h of hooks) await h.beforePipelineRun?.({ run });
  let result: RunResult;
  try {
    result = await runNodes({
      ir: prepared.ir,
      module: prepared.module,
      nodes: prepared.nodes,
      params: prepared.params.values,
      datasetEnv: {
        root: req.root,
        allowedPaths: prepared.ir.settings.allowedPaths,
        saveVersion: newSaveVersion(),
        recordMetrics: (dataset, metrics) => extra.onMetrics?.(dataset, metrics),
      },
      loadVersions: prepared.loadVersions,
      run,
      hooks,
      tracker: extra.tracker ?? null,
      useCache: req.useCache,
      ...(extra.fingerprintSalt ? { fingerprintSalt: extra.fingerprintSalt } : {}),
      ...(extra.beforeExecution ? { beforeExecution: () => extra.beforeExecution!(run) } : {}),
      concurrency: req.concurrency,
      reporter: req.reporter,
      ...(req.signal ? { signal: req.signal } : {}),
      ...(extra.onMetrics ? { onMetrics: extra.onMetrics } : {}),
      ...(extra.onFile ? { onFile: extra.onFile } : {}),
      ...(extra.upstream ? { upstream: extra.upstream } : {}),
    });
  } catch (e) {
    for (const h of hooks) await h.afterPipelineRun?.({ run, status: 'FAILED', error: e });
    throw e;
  }
  for (const h of hooks) await h.afterPipelineRun?.({ run, status: result.status, ...(result.status === 'FINISHED' ? {} : { error: result.diagnostics[0] }) });
  return { ...result, run };
}
