// Micro-batching: records of concurrent requests go to the model in one predict call, and the outputs are split
// back per request. A failing batch is retried request by request, so one bad request fails alone.
import { batcherOptions, type BatcherOptions } from './options.ts';

export type { BatcherOptions };

export interface BatcherStats {
  /** Predict calls made for merged batches (retries not included). */
  batches: number;
  /** Records predicted. */
  records: number;
  /** Predict calls made to retry the requests of a failed batch one by one. */
  retries: number;
  largestBatch: number;
}

/** A request's records waiting in the queue, possibly taken in several slices when it is larger than a batch. */
interface Entry {
  records: unknown[];
  /** Index of the first record not yet taken into a batch. */
  next: number;
  /** Outputs gathered so far, when the request spans batches. */
  outputs: unknown[] | undefined;
  remaining: number;
  settled: boolean;
  sink: BatchSink;
}

/**
 * Who receives a request's outputs. The scoring server passes its per-request object (no promise, no closures on the
 * hot path); submit() wraps a promise.
 */
export interface BatchSink {
  /** True once the submitter no longer wants the outputs (its request was answered otherwise): queued records are dropped. */
  readonly done: boolean;
  deliver(outputs: unknown[]): void;
  fail(error: unknown): void;
}

export interface Ticket {
  readonly done: boolean;
}

class PromiseSink implements BatchSink {
  constructor(
    readonly resolve: (outputs: unknown[]) => void,
    readonly reject: (error: unknown) => void,
    private readonly ticket: Ticket | undefined,
  ) {}
  get done(): boolean {
    return this.ticket !== undefined && this.ticket.done;
  }
  deliver(outputs: unknown[]): void {
    this.resolve(outputs);
  }
  fail(error: unknown): void {
    this.reject(error);
  }
}

/** Rejects a request whose ticket was done before its records reached the model. */
export class WithdrawnError extends Error {
  constructor() {
    super('the request was withdrawn before its records were predicted');
    this.name = 'WithdrawnError';
  }
}

/** One request's slice inside a batch. */
interface Segment {
  entry: Entry;
  from: number;
  to: number;
}

/** Thrown when a predictor breaks its contract by returning the wrong number of outputs. */
export class PredictorContractError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PredictorContractError';
  }
}

export class MicroBatcher {
  readonly options: Readonly<BatcherOptions>;
  readonly stats: BatcherStats = { batches: 0, records: 0, retries: 0, largestBatch: 0 };
  private readonly predict: (records: unknown[]) => Promise<unknown[]>;
  private queue: Entry[] = [];
  private head = 0;
  /** Records queued and not yet taken into a batch. */
  private queued = 0;
  /** Predict calls running, and the records in them. */
  private inFlight = 0;
  private inFlightRecords = 0;
  /** Queued records may go now without waiting to fill a batch (their wait expired, they waited for a busy model, or we drain). */
  private due = false;
  private draining = false;
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private idleWaiters: Array<() => void> = [];

  constructor(predict: (records: unknown[]) => Promise<unknown[]>, options: Partial<BatcherOptions> = {}) {
    this.predict = predict;
    this.options = Object.freeze(batcherOptions(options));
  }

  /** Records waiting or being predicted. */
  get pending(): number {
    return this.queued + this.inFlightRecords;
  }

  /**
   * Predicts `records` as part of whatever batch they fall into; outputs are aligned with `records`. When `ticket.done`
   * turns true while records are still queued, they are dropped and the promise rejects with a WithdrawnError.
   */
  submit(records: unknown[], ticket?: Ticket): Promise<unknown[]> {
    return new Promise<unknown[]>((resolve, reject) => this.enqueue(records, new PromiseSink(resolve, reject, ticket)));
  }

  /** As submit(), with the outputs (or the failure) handed to `sink`; delivery may happen synchronously for no records. */
  enqueue(records: unknown[], sink: BatchSink): void {
    if (records.length === 0) return sink.deliver([]);
    this.queue.push({ records, next: 0, outputs: undefined, remaining: records.length, settled: false, sink });
    this.queued += records.length;
    this.schedule();
  }

  /** Sends everything queued now, without waiting to fill batches, and resolves once no predict call is running. */
  drain(): Promise<void> {
    this.draining = true;
    this.schedule();
    if (this.queued === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    while (this.queued > 0 && this.inFlight < this.options.maxConcurrentBatches) {
      if (this.due || this.draining || this.queued >= this.options.maxBatchSize) {
        this.dispatch();
        continue;
      }
      if (this.timer === undefined) {
        this.timer = this.options.maxWaitMs > 0 ? setTimeout(this.onWaitOver, this.options.maxWaitMs) : setImmediate(this.onWaitOver);
      }
      return;
    }
    if (this.queued === 0) {
      this.due = false;
      this.clearTimer();
    }
  }

  private readonly onWaitOver = (): void => {
    this.timer = undefined;
    if (this.queued === 0) return;
    this.due = true;
    this.schedule();
  };

  private clearTimer(): void {
    if (this.timer === undefined) return;
    if (this.options.maxWaitMs > 0) clearTimeout(this.timer as NodeJS.Timeout);
    else clearImmediate(this.timer as NodeJS.Immediate);
    this.timer = undefined;
  }

  /** Takes up to maxBatchSize records off the queue and starts a predict call on them. */
  private dispatch(): void {
    const max = this.options.maxBatchSize;
    this.dropSettled();
    if (this.queued === 0) return;
    const first = this.queue[this.head];
    let batch: unknown[];
    let segments: Segment[];
    if (first.next === 0 && first.records.length <= max && (this.head + 1 === this.queue.length || first.records.length === max)) {
      // One whole request: its own array goes to the model, nothing copied.
      batch = first.records;
      segments = [{ entry: first, from: 0, to: batch.length }];
      first.next = batch.length;
      this.head++;
    } else {
      batch = [];
      segments = [];
      while (batch.length < max && this.head < this.queue.length) {
        const e = this.queue[this.head];
        if (gone(e)) {
          this.dropSettled();
          continue;
        }
        const to = Math.min(e.records.length, e.next + (max - batch.length));
        for (let i = e.next; i < to; i++) batch.push(e.records[i]);
        segments.push({ entry: e, from: e.next, to });
        e.next = to;
        if (to === e.records.length) this.head++;
      }
    }
    if (batch.length === 0) return; // everything left had been withdrawn
    this.queued -= batch.length;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.stats.batches++;
    this.stats.records += batch.length;
    if (batch.length > this.stats.largestBatch) this.stats.largestBatch = batch.length;
    this.inFlight++;
    this.inFlightRecords += batch.length;
    void this.run(batch, segments);
  }

  /** A request that already failed (one of its slices did), or whose submitter gave up, need not be predicted. */
  private dropSettled(): void {
    while (this.head < this.queue.length && gone(this.queue[this.head])) {
      const e = this.queue[this.head];
      this.queued -= e.records.length - e.next;
      e.next = e.records.length;
      this.head++;
      fail(e, new WithdrawnError());
    }
  }

  private async run(batch: unknown[], segments: Segment[]): Promise<void> {
    try {
      let outputs: unknown[] | undefined;
      let failure: unknown;
      try {
        outputs = await this.call(batch);
      } catch (e) {
        failure = e;
      }
      if (outputs !== undefined) deliver(segments, outputs);
      else if (segments.length === 1) fail(segments[0].entry, failure);
      else await this.retryOneByOne(segments);
    } finally {
      this.inFlight--;
      this.inFlightRecords -= batch.length;
      if (this.queued > 0) this.due = true; // they waited for the model already
      this.schedule();
      if (this.queued === 0 && this.inFlight === 0 && this.idleWaiters.length > 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    }
  }

  /** The batch failed as a whole: each request gets its own predict call, so only the bad ones fail. */
  private async retryOneByOne(segments: Segment[]): Promise<void> {
    for (const s of segments) {
      if (s.entry.settled) continue;
      const records = s.from === 0 && s.to === s.entry.records.length ? s.entry.records : s.entry.records.slice(s.from, s.to);
      this.stats.retries++;
      try {
        deliver([s], await this.call(records));
      } catch (e) {
        fail(s.entry, e);
      }
    }
  }

  private async call(records: unknown[]): Promise<unknown[]> {
    const outputs = await this.predict(records);
    if (!Array.isArray(outputs) || outputs.length !== records.length) {
      throw new PredictorContractError(`predict returned ${Array.isArray(outputs) ? `${outputs.length} outputs` : typeof outputs} for ${records.length} records`);
    }
    return outputs;
  }
}

function gone(e: Entry): boolean {
  return e.settled || e.sink.done;
}

function deliver(segments: Segment[], outputs: unknown[]): void {
  if (segments.length === 1) {
    const { entry, from, to } = segments[0];
    if (from === 0 && to === entry.records.length) return settle(entry, outputs);
  }
  let offset = 0;
  for (const { entry, from, to } of segments) {
    const n = to - from;
    if (!entry.settled) {
      if (from === 0 && n === entry.records.length) settle(entry, outputs.slice(offset, offset + n));
      else {
        entry.outputs ??= new Array<unknown>(entry.records.length);
        for (let i = 0; i < n; i++) entry.outputs[from + i] = outputs[offset + i];
        entry.remaining -= n;
        if (entry.remaining === 0) settle(entry, entry.outputs);
      }
    }
    offset += n;
  }
}

function settle(entry: Entry, outputs: unknown[]): void {
  if (entry.settled) return;
  entry.settled = true;
  try {
    entry.sink.deliver(outputs);
  } catch (e) {
    rethrowLater(e);
  }
}

function fail(entry: Entry, error: unknown): void {
  if (entry.settled) return;
  entry.settled = true;
  try {
    entry.sink.fail(error);
  } catch (e) {
    rethrowLater(e);
  }
}

/** A sink that throws must not keep the other requests of its batch from their outputs; its error still surfaces. */
function rethrowLater(e: unknown): void {
  queueMicrotask(() => {
    throw e;
  });
}
