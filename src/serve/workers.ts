// Serving from several processes (`kiln serve --workers N`), as gunicorn and uvicorn workers do: node:cluster forks
// N copies of this process, each loads the model and runs its own scoring server, and they share one listening port
// (the primary hands connections out round-robin). The primary loads nothing: it starts the workers, reports the
// address, passes signals on as drain messages, and replaces a worker that dies while serving.
import cluster, { type Worker } from 'node:cluster';
import type { ScoringServer } from './server.ts';
import { serveUntilSignal } from './shutdown.ts';

/** What a worker tells its primary once it listens. */
export interface WorkerListening {
  port: number;
  host: string;
  /** Free text from the worker for the primary's "serving" line (model, run, backend). */
  detail: string;
}

type ToPrimary = { kiln: 'listening' } & WorkerListening;
type ToWorker = { kiln: 'drain' } | { kiln: 'cut' };

export interface WorkerPoolOptions {
  workers: number;
  /** The workers' drain timeout: the primary kills a worker still alive this long (plus a margin) after asking it to drain. */
  drainTimeoutMs: number;
  signals?: NodeJS.Signals[];
  /** Once every worker listens. */
  onListening?: (at: WorkerListening, workers: number) => void;
  /** When the first signal arrives. */
  onSignal?: (signal: NodeJS.Signals) => void;
  /**
   * What each worker runs: the kiln command line that serves. By default node:cluster re-runs this process's own
   * script, which is not kiln when kiln runs inside another program (a test runner, a library caller).
   */
  exec?: { file: string; args: string[]; execArgv: string[] };
  /** A worker died while serving (it is replaced). */
  onWorkerDied?: (pid: number | undefined, code: number | null, signal: NodeJS.Signals | null) => void;
}

export interface WorkerPoolResult {
  /** 0 when every worker drained and exited 0; else the first failing worker's exit code (2 when it had none). */
  code: number;
  signal?: NodeJS.Signals;
}

/** After the drain timeout, how long the primary still gives a worker to exit before SIGKILL. */
const KILL_MARGIN_MS = 5_000;

/** The environment variable that numbers the workers, from 0; replacements get new numbers. */
const WORKER_INDEX = 'KILN_SERVE_WORKER';

/** True in a process forked by runWorkerPool. */
export function isServingWorker(): boolean {
  return cluster.isWorker;
}

/** This worker's number (0 for the first, which reports what all workers would), or undefined outside a pool. */
export function workerIndex(): number | undefined {
  return cluster.isWorker ? Number(process.env[WORKER_INDEX] ?? 0) : undefined;
}

/**
 * In the primary: forks the workers (one first, so that a mistake such as a bad artifact is reported once, then the
 * rest) and resolves when they have all exited: after a signal, once drained, or at once if one cannot start.
 */
export function runWorkerPool(options: WorkerPoolOptions): Promise<WorkerPoolResult> {
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  return new Promise((resolve) => {
    const live = new Set<Worker>();
    const listening = new Set<Worker>();
    let address: WorkerListening | undefined;
    let started = false;
    let stopping: NodeJS.Signals | 'failed' | undefined;
    let failure = 0;
    let killTimer: NodeJS.Timeout | undefined;

    const tell = (message: ToWorker) => {
      for (const w of live) if (w.isConnected()) w.send(message);
    };
    const stop = (why: NodeJS.Signals | 'failed') => {
      if (stopping !== undefined) return;
      stopping = why;
      tell({ kiln: 'drain' });
      killTimer = setTimeout(() => {
        for (const w of live) w.process.kill('SIGKILL');
      }, options.drainTimeoutMs + KILL_MARGIN_MS);
      killTimer.unref();
      if (live.size === 0) done();
    };
    const done = () => {
      clearTimeout(killTimer);
      for (const s of signals) process.removeListener(s, onSignal);
      resolve(stopping === 'failed' ? { code: failure } : { code: failure, signal: stopping });
    };
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping !== undefined) return tell({ kiln: 'cut' }); // asked twice: cut slow clients
      options.onSignal?.(signal);
      stop(signal);
    };
    for (const s of signals) process.on(s, onSignal);

    if (options.exec) cluster.setupPrimary({ exec: options.exec.file, args: options.exec.args, execArgv: options.exec.execArgv });
    let forked = 0;
    const fork = () => {
      const w = cluster.fork({ [WORKER_INDEX]: String(forked++) });
      live.add(w);
      w.on('message', (m: ToPrimary) => {
        if (m?.kiln !== 'listening') return;
        listening.add(w);
        address ??= { port: m.port, host: m.host, detail: m.detail };
        if (stopping !== undefined) w.send({ kiln: 'drain' } satisfies ToWorker);
        else if (!started) {
          if (live.size < options.workers) {
            // The first worker is up: the artifact is good, start the others.
            for (let i = live.size; i < options.workers; i++) fork();
          }
          if (listening.size === options.workers) {
            started = true;
            options.onListening?.(address, options.workers);
          }
        }
      });
      w.on('exit', (code: number | null, signal: NodeJS.Signals | null) => {
        live.delete(w);
        const wasListening = listening.delete(w);
        if (stopping === undefined && wasListening && started) {
          // Died while serving (a crash, the OOM killer): replace it, as gunicorn does.
          options.onWorkerDied?.(w.process.pid, code, signal);
          fork();
          return;
        }
        if (code !== 0 && failure === 0) failure = code ?? 2;
        if (stopping === undefined) stop('failed'); // could not start (its diagnostics are on stderr already)
        else if (live.size === 0) done();
      });
    };
    fork();
  });
}

/**
 * In a worker that is done, or could not start: lets go of the primary, so that the process ends once its event loop
 * is empty (the IPC channel would keep it alive).
 */
export function leavePool(): void {
  if (cluster.isWorker && cluster.worker?.isConnected()) cluster.worker.disconnect();
}

/**
 * In a worker: tells the primary where the server listens, then serves until the primary asks it to drain (or a
 * signal arrives directly, as Ctrl-C sends one to the whole process group). Resolves once drained.
 */
export async function serveAsWorker(scoring: ScoringServer, at: WorkerListening): Promise<NodeJS.Signals> {
  let onMessage: ((m: ToWorker) => void) | undefined;
  process.send!({ kiln: 'listening', ...at } satisfies ToPrimary);
  const signal = await serveUntilSignal(scoring, {
    control: (drain, cut) => {
      onMessage = (m) => {
        if (m?.kiln === 'drain') drain();
        else if (m?.kiln === 'cut') cut();
      };
      process.on('message', onMessage);
    },
  });
  process.removeListener('message', onMessage!);
  leavePool(); // the process ends once its last keep-alive connection does
  return signal;
}
