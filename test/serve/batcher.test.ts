// Micro-batching without HTTP: merging, splitting, isolation of failures, draining, options.
import { describe, expect, it } from 'vitest';
import { MicroBatcher, PredictorContractError, WithdrawnError } from '../../src/serve/batcher.ts';
import { isKilnError } from '../../src/diagnostics/index.ts';
import { textLengthPredictor } from './support.ts';

/** Resolves once the predictor has been called `n` times. */
async function untilCalled(p: { calls: number[] }, n: number): Promise<void> {
  while (p.calls.length < n) await new Promise((r) => setImmediate(r));
}

const texts = (n: number, prefix = 't') => Array.from({ length: n }, (_, i) => ({ text: `${prefix}${'x'.repeat(i)}` }));

describe('MicroBatcher', () => {
  it('merges requests submitted in the same turn into one predict call and splits the outputs back', async () => {
    const p = textLengthPredictor();
    const b = new MicroBatcher((r) => p.predict(r));
    const results = await Promise.all([b.submit([{ text: 'a' }]), b.submit([{ text: 'bb' }, { text: 'ccc' }]), b.submit([{ text: '' }])]);
    expect(results).toEqual([[{ length: 1 }], [{ length: 2 }, { length: 3 }], [{ length: 0 }]]);
    expect(p.calls).toEqual([4]);
    expect(b.stats).toMatchObject({ batches: 1, records: 4, largestBatch: 4 });
  });

  it('gathers the next batch while the model is busy', async () => {
    const p = textLengthPredictor({ delayMs: 30 });
    const b = new MicroBatcher((r) => p.predict(r));
    const first = b.submit([{ text: 'first' }]);
    await untilCalled(p, 1); // the first batch is running now
    const rest = texts(10).map((r) => b.submit([r]));
    expect(b.pending).toBe(11); // records queued or being predicted
    const outputs = await Promise.all([first, ...rest]);
    expect(outputs.map((o) => (o[0] as { length: number }).length)).toEqual([5, ...texts(10).map((r) => r.text.length)]);
    expect(p.calls).toEqual([1, 10]);
  });

  it('waits up to maxWaitMs for more records when the model is idle', async () => {
    const p = textLengthPredictor();
    const b = new MicroBatcher((r) => p.predict(r), { maxWaitMs: 300 });
    const a = b.submit([{ text: 'a' }]);
    await new Promise((r) => setTimeout(r, 10));
    const c = b.submit([{ text: 'cc' }]);
    expect(await Promise.all([a, c])).toEqual([[{ length: 1 }], [{ length: 2 }]]);
    expect(p.calls).toEqual([2]);
  });

  it('never exceeds maxBatchSize, and splits a large request across batches in order', async () => {
    const p = textLengthPredictor();
    const b = new MicroBatcher((r) => p.predict(r), { maxBatchSize: 4 });
    const big = texts(10, 'big');
    const [small, large, after] = await Promise.all([b.submit([{ text: 's' }]), b.submit(big), b.submit([{ text: 'zz' }])]);
    expect(small).toEqual([{ length: 1 }]);
    expect(large).toEqual(big.map((r) => ({ length: r.text.length })));
    expect(after).toEqual([{ length: 2 }]);
    expect(Math.max(...p.calls)).toBeLessThanOrEqual(4);
    expect(p.calls.reduce((x, y) => x + y, 0)).toBe(12);
  });

  it('dispatches as soon as a batch is full, without waiting maxWaitMs', async () => {
    const p = textLengthPredictor();
    const b = new MicroBatcher((r) => p.predict(r), { maxBatchSize: 3, maxWaitMs: 10_000 });
    const t0 = Date.now();
    await Promise.all(texts(3).map((r) => b.submit([r])));
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(p.calls).toEqual([3]);
  });

  it('isolates a bad request: the batch is retried request by request and only the bad one fails', async () => {
    const p = textLengthPredictor({ poison: 'boom' });
    const b = new MicroBatcher((r) => p.predict(r));
    const settled = await Promise.allSettled([b.submit([{ text: 'a' }]), b.submit([{ text: 'x' }, { text: 'boom' }]), b.submit([{ text: 'ccc' }])]);
    expect(settled[0]).toEqual({ status: 'fulfilled', value: [{ length: 1 }] });
    expect(settled[1]).toMatchObject({ status: 'rejected', reason: { message: "cannot featurize 'boom'" } });
    expect(settled[2]).toEqual({ status: 'fulfilled', value: [{ length: 3 }] });
    expect(p.calls).toEqual([4, 1, 2, 1]);
    expect(b.stats.retries).toBe(3);
  });

  it('drops queued records of a request withdrawn before they reached the model', async () => {
    const p = textLengthPredictor({ delayMs: 40 });
    const b = new MicroBatcher((r) => p.predict(r), { maxBatchSize: 2 });
    const running = b.submit([{ text: 'a' }]);
    await untilCalled(p, 1);
    const ticket = { done: false };
    const withdrawn = b.submit([{ text: 'b' }, { text: 'c' }, { text: 'd' }], ticket);
    const kept = b.submit([{ text: 'ee' }]);
    ticket.done = true; // e.g. its HTTP request timed out
    await expect(withdrawn).rejects.toBeInstanceOf(WithdrawnError);
    expect(await running).toEqual([{ length: 1 }]);
    expect(await kept).toEqual([{ length: 2 }]);
    expect(p.calls).toEqual([1, 1]);
    expect(b.pending).toBe(0);
  });

  it('fails the requests of a predictor that returns the wrong number of outputs', async () => {
    const b = new MicroBatcher(async (r) => r.slice(1));
    await expect(b.submit([1, 2])).rejects.toBeInstanceOf(PredictorContractError);
    await expect(b.submit([1, 2])).rejects.toThrow('predict returned 1 outputs for 2 records');
  });

  it('turns a predict that throws synchronously into a failed request', async () => {
    const b = new MicroBatcher(() => {
      throw new Error('sync failure');
    });
    await expect(b.submit([1])).rejects.toThrow('sync failure');
    await expect(b.submit([2])).rejects.toThrow('sync failure'); // and keeps working
  });

  it('drain sends what is queued at once and resolves when idle', async () => {
    const p = textLengthPredictor({ delayMs: 20 });
    const b = new MicroBatcher((r) => p.predict(r), { maxWaitMs: 60_000 });
    const pending = b.submit([{ text: 'queued' }]);
    expect(b.pending).toBe(1);
    const t0 = Date.now();
    await b.drain();
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(b.pending).toBe(0);
    expect(await pending).toEqual([{ length: 6 }]);
  });

  it('answers an empty request without calling the model', async () => {
    const p = textLengthPredictor();
    const b = new MicroBatcher((r) => p.predict(r));
    expect(await b.submit([])).toEqual([]);
    expect(p.calls).toEqual([]);
  });

  const badOptions: Array<[string, Record<string, unknown>, string]> = [
    ['maxBatchSize 0', { maxBatchSize: 0 }, "batching option 'maxBatchSize' must be a positive integer, but is 0"],
    ['maxBatchSize 2.5', { maxBatchSize: 2.5 }, "batching option 'maxBatchSize' must be a positive integer, but is 2.5"],
    ['maxWaitMs -1', { maxWaitMs: -1 }, "batching option 'maxWaitMs' must be a non-negative number, but is -1"],
    ['maxConcurrentBatches "2"', { maxConcurrentBatches: '2' }, `batching option 'maxConcurrentBatches' must be a positive integer, but is "2"`],
  ];
  for (const [name, options, message] of badOptions) {
    it(`KILN6107 for ${name}`, () => {
      let error: unknown;
      try {
        new MicroBatcher(async (r) => r, options);
      } catch (e) {
        error = e;
      }
      expect(isKilnError(error)).toBe(true);
      const d = (error as { diagnostics: Array<{ code: string; message: string }> }).diagnostics[0];
      expect(d.code).toBe('KILN6107');
      expect(d.message).toBe(message);
    });
  }
});
