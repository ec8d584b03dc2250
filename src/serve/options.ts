// Options of the scoring server, the micro-batcher and batch prediction: defaults and checks, in one place.
import { diag, KilnError } from '../diagnostics/index.ts';

export interface BatcherOptions {
  /** Most records in one predict call; a request with more is split across calls. Default 64. */
  maxBatchSize: number;
  /**
   * How long the first queued record waits for others to join its batch while the model has a free slot. Default 0:
   * only requests that arrived in the same turn of the event loop are merged. Under load, requests that arrive while
   * the model is busy form the next batch anyway, so waiting only adds latency for CPU-bound models; a GPU model that
   * gains from large batches may want a few milliseconds.
   */
  maxWaitMs: number;
  /** Predict calls allowed to run at once. Default 1: the next batch gathers while one runs. */
  maxConcurrentBatches: number;
}

export interface ScoringServerOptions {
  /** Largest request body accepted; larger ones get 413 and the connection is closed. Default 8 MiB. */
  maxBodyBytes: number;
  /** From the end of the request headers to the response; past it, 504. Default 60 s, as MLflow's scoring server. */
  requestTimeoutMs: number;
  /** Time a client has to send the request headers; past it Node answers 408 and closes. Default 20 s. */
  headersTimeoutMs: number;
  /** How long an idle keep-alive connection stays open. Default 5 s. */
  keepAliveTimeoutMs: number;
  /** How long close() waits for in-flight requests before cutting the remaining connections. Default 30 s. */
  shutdownTimeoutMs: number;
  batching: BatcherOptions;
  /** Where the server reports model failures and its own bugs (500s). Default: one line on stderr. */
  onError: (error: unknown, context: string) => void;
}

export type OnBadLine = 'fail' | 'skip';
export const ON_BAD_LINE: readonly OnBadLine[] = ['fail', 'skip'];

export interface PredictFileOptions {
  /** Records per predict call. Default 256. */
  batchSize: number;
  /** What a bad input line does: fail the whole file (default), or skip it and go on. */
  onError: OnBadLine;
}

export const defaultBatcherOptions: Readonly<BatcherOptions> = Object.freeze({ maxBatchSize: 64, maxWaitMs: 0, maxConcurrentBatches: 1 });

function reportToStderr(error: unknown, context: string): void {
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  // process.stderr.write is asynchronous on pipes; this is the error path only.
  process.stderr.write(`kiln serve: ${context}: ${text}\n`);
}

type Kind = 'positive integer' | 'non-negative number' | 'positive number';

function check(what: string, option: string, value: unknown, kind: Kind): number {
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (kind === 'positive integer' ? Number.isInteger(value) && value >= 1 : kind === 'positive number' ? value > 0 : value >= 0);
  if (!ok) throw new KilnError(diag('KILN6107', { what, option, expected: `a ${kind}`, actual: JSON.stringify(value) ?? String(value) }));
  return value as number;
}

/** Fills and checks batcher options; a bad value is a KILN6107. */
export function batcherOptions(given: Partial<BatcherOptions> = {}): BatcherOptions {
  const o = { ...defaultBatcherOptions, ...defined(given) };
  return {
    maxBatchSize: check('batching', 'maxBatchSize', o.maxBatchSize, 'positive integer'),
    maxWaitMs: check('batching', 'maxWaitMs', o.maxWaitMs, 'non-negative number'),
    maxConcurrentBatches: check('batching', 'maxConcurrentBatches', o.maxConcurrentBatches, 'positive integer'),
  };
}

export type ScoringServerOptionsInput = Partial<Omit<ScoringServerOptions, 'batching'>> & { batching?: Partial<BatcherOptions> };

/** Fills and checks scoring server options; a bad value is a KILN6107. */
export function scoringServerOptions(given: ScoringServerOptionsInput = {}): ScoringServerOptions {
  const g = defined(given);
  const requestTimeoutMs = check('server', 'requestTimeoutMs', g.requestTimeoutMs ?? 60_000, 'positive number');
  return {
    maxBodyBytes: check('server', 'maxBodyBytes', g.maxBodyBytes ?? 8 * 1024 * 1024, 'positive integer'),
    requestTimeoutMs,
    headersTimeoutMs: check('server', 'headersTimeoutMs', g.headersTimeoutMs ?? Math.min(20_000, requestTimeoutMs), 'positive number'),
    keepAliveTimeoutMs: check('server', 'keepAliveTimeoutMs', g.keepAliveTimeoutMs ?? 5_000, 'non-negative number'),
    shutdownTimeoutMs: check('server', 'shutdownTimeoutMs', g.shutdownTimeoutMs ?? 30_000, 'non-negative number'),
    batching: batcherOptions(given.batching),
    onError: g.onError ?? reportToStderr,
  };
}

/** Fills and checks batch prediction options; a bad value is a KILN6107. */
export function predictFileOptions(given: Partial<PredictFileOptions> = {}): PredictFileOptions {
  const g = defined(given);
  const onError = g.onError ?? 'fail';
  if (!ON_BAD_LINE.includes(onError)) throw new KilnError(diag('KILN6107', { what: 'predict', option: 'onError', expected: ON_BAD_LINE.map((v) => `'${v}'`).join(' or '), actual: JSON.stringify(onError) ?? String(onError) }));
  return { batchSize: check('predict', 'batchSize', g.batchSize ?? 256, 'positive integer'), onError };
}

function defined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
