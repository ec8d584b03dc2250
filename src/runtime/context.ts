// What a running node can reach besides its inputs: progress, metrics and logs, through AsyncLocalStorage,
// so that node functions stay plain functions of their inputs and still report to the run.
import { AsyncLocalStorage } from 'node:async_hooks';

export interface ProgressInfo {
  [key: string]: number | string;
}

export interface NodeContext {
  /** Name of the running node (namespaced), or '' outside a run. */
  readonly node: string;
  /** Id of the run, or null outside a tracked run. */
  readonly runId: string | null;
  /** The TensorFlow.js backend chosen for the run, or null when none was set up. */
  readonly backend: string | null;
  /** Aborted when the run is interrupted (SIGINT/SIGTERM); long loops should stop early. */
  readonly signal: AbortSignal;
  /** Reports progress of a long node (training epochs): shown as a progress bar on a TTY. */
  progress(done: number, total: number, info?: ProgressInfo): void;
  /** Records metrics with the run; `step` gives a history (epoch number, for example). */
  logMetrics(metrics: Record<string, number>, step?: number): void;
  /** Saves a file with the run (a training-curve image, for example). */
  logFile(name: string, content: string | Uint8Array): void;
  /** A line of log output attributed to the node. */
  log(message: string): void;
}

const storage = new AsyncLocalStorage<NodeContext>();

const detached: NodeContext = {
  node: '',
  runId: null,
  backend: null,
  signal: new AbortController().signal,
  progress() {},
  logMetrics() {},
  logFile() {},
  log() {},
};

/** The context of the node being run, or a detached one that drops everything (when called outside a run). */
export function nodeContext(): NodeContext {
  return storage.getStore() ?? detached;
}

/** Runs `fn` with `ctx` as the node context of everything it awaits. */
export function withNodeContext<T>(ctx: NodeContext, fn: () => T): T {
  return storage.run(ctx, fn);
}
