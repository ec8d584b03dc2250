// fitModel: bit-for-bit repeatable training, early stopping with restored weights, class weights, what it
// reports to the node context, and its diagnostics. Small data so that the whole file runs in seconds.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRandom, csrRows, fitModel, selectBackend, weightsFingerprint, type FitOptions } from '../../src/ml/index.ts';
import { withNodeContext, type NodeContext } from '../../src/runtime/context.ts';
import { isKilnError, type KilnError } from '../../src/diagnostics/index.ts';

beforeAll(async () => {
  await selectBackend('wasm');
});

/** Rows of 12 features; the label is 1 when a noisy linear score is positive (or random with `noise: 'all'`). */
function data(rows: number, seed: number, noise: 'some' | 'all' = 'some') {
  const rng = createRandom(seed, 'data');
  const x = new Float32Array(rows * 12);
  const y = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let score = 0;
    for (let c = 0; c < 12; c++) {
      const v = rng.next() * 2 - 1;
      x[r * 12 + c] = v;
      score += (c % 3 === 0 ? 1 : -0.5) * v;
    }
    y[r] = noise === 'all' ? (rng.next() < 0.5 ? 1 : 0) : score + (rng.next() - 0.5) * 0.4 > 0 ? 1 : 0;
  }
  return { x: tf.tensor2d(x, [rows, 12]), y: tf.tensor2d(y, [rows, 1]) };
}

function model(initSeed: number, opts: { dropout?: number; lr?: number; hidden?: number } = {}): tf.Sequential {
  const rng = createRandom(initSeed, 'init');
  const m = tf.sequential();
  m.add(tf.layers.dense({ inputShape: [12], units: opts.hidden ?? 16, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: rng.tfSeed() }) }));
  m.add(tf.layers.dropout({ rate: opts.dropout ?? 0.3 }));
  m.add(tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed: rng.tfSeed() }) }));
  m.compile({ optimizer: tf.train.adam(opts.lr ?? 0.01), loss: 'binaryCrossentropy' });
  return m;
}

interface Recorded {
  metrics: Array<{ step?: number; metrics: Record<string, number> }>;
  progress: Array<{ done: number; total: number; info?: Record<string, number | string> }>;
  files: Map<string, string>;
  logs: string[];
}

async function recording<T>(fn: () => Promise<T>): Promise<{ result: T; recorded: Recorded }> {
  const recorded: Recorded = { metrics: [], progress: [], files: new Map(), logs: [] };
  const ctx: NodeContext = {
    node: 'train',
    runId: 'test',
    backend: 'wasm',
    signal: new AbortController().signal,
    progress: (done, total, info) => recorded.progress.push({ done, total, info }),
    logMetrics: (metrics, step) => recorded.metrics.push({ step, metrics }),
    logFile: (name, content) => recorded.files.set(name, String(content)),
    log: (m) => recorded.logs.push(m),
  };
  const result = await withNodeContext(ctx, fn);
  return { result, recorded };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isKilnError(e)) return e.diagnostics[0].code;
    throw e;
  }
  return 'no error';
}

const base: FitOptions = { epochs: 3, batchSize: 16, seed: 1, validationSplit: 0.2, curvesFile: false };

describe('fitModel determinism', () => {
  const trained = async (initSeed: number, fitSeed: number) => {
    const { x, y } = data(240, 1);
    const m = model(initSeed);
    await fitModel(m, x, y, { ...base, seed: fitSeed });
    const fingerprint = weightsFingerprint(m);
    tf.dispose([x, y]);
    m.dispose();
    return fingerprint;
  };

  it('gives bit-identical weights for the same seeds and data, and other weights for another seed', async () => {
    const a = await trained(1, 1);
    expect(await trained(1, 1)).toBe(a);
    expect(await trained(1, 2)).not.toBe(a); // shuffle, validation rows and dropout follow the fit seed
    expect(await trained(2, 1)).not.toBe(a); // initial weights follow the init seed
  });

  it('gives every dropout step a fresh mask and leaves the layer config as it was', async () => {
    const { x, y } = data(64, 2);
    const m = model(3, { dropout: 0.5 });
    const dropout = m.layers[1];
    const before = JSON.stringify(dropout.getConfig());
    // Record the seed the layer holds at each of its calls during training.
    const seen: unknown[] = [];
    const call = dropout.call.bind(dropout);
    dropout.call = (inputs, kwargs) => {
      if (kwargs.training) seen.push((dropout as unknown as { seed?: number }).seed);
      return call(inputs, kwargs);
    };
    await fitModel(m, x, y, { epochs: 2, batchSize: 16, seed: 5, curvesFile: false });
    expect(seen).toHaveLength(8);
    expect(new Set(seen).size).toBe(8);
    expect(JSON.stringify(dropout.getConfig())).toBe(before);
    tf.dispose([x, y]);
    m.dispose();
  });

  it('trains the same from a sparse RowSource as from the equivalent dense tensor', async () => {
    const { x, y } = data(96, 3);
    const dense = await x.array();
    const indptr = [0];
    const indices: number[] = [];
    const values: number[] = [];
    for (const row of dense) {
      row.forEach((v, c) => {
        if (c % 2 === 0) {
          indices.push(c);
          values.push(v);
        }
      });
      indptr.push(indices.length);
    }
    const sparse = { rows: 96, columns: 12, indptr, indices, values };
    const halfDense = tf.tensor2d(dense.map((row) => row.map((v, c) => (c % 2 === 0 ? v : 0))));
    const a = model(4);
    const b = model(4);
    await fitModel(a, csrRows(sparse), y, { ...base, seed: 4 });
    await fitModel(b, halfDense, y, { ...base, seed: 4 });
    expect(weightsFingerprint(a)).toBe(weightsFingerprint(b));
    tf.dispose([x, y, halfDense]);
    a.dispose();
    b.dispose();
  });

  it('does not leak tensors', async () => {
    const { x, y } = data(64, 4);
    const m = model(5);
    await fitModel(m, x, y, { ...base, epochs: 1 }); // creates the optimizer's slots
    const before = tf.memory().numTensors;
    await fitModel(m, x, y, { ...base, epochs: 2, earlyStopping: { patience: 0 }, classWeight: 'balanced' });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
    m.dispose();
  });
});

describe('fitModel reporting and early stopping', () => {
  it('reports metrics and progress per epoch, and saves training curves', async () => {
    const { x, y } = data(200, 5);
    const m = model(6);
    const { result, recorded } = await recording(() => fitModel(m, x, y, { ...base, epochs: 4, curvesFile: undefined }));
    expect(result.epochs).toBe(4);
    expect(Object.keys(result.history)).toEqual(['loss', 'acc', 'val_loss', 'val_acc']);
    expect(recorded.metrics.map((r) => r.step)).toEqual([1, 2, 3, 4]);
    // Recorded as training metrics, apart from a pipeline's own test metrics such as `accuracy`.
    expect(Object.keys(recorded.metrics[0].metrics).sort()).toEqual(['train.acc', 'train.loss', 'train.val_acc', 'train.val_loss']);
    expect(recorded.metrics.map((r) => r.metrics['train.loss'])).toEqual(result.history.loss);
    expect(recorded.progress.map((p) => [p.done, p.total])).toEqual([[1, 4], [2, 4], [3, 4], [4, 4]]);
    expect(recorded.progress[0].info).toHaveProperty('eta_s');
    expect(recorded.progress[3].info?.eta_s).toBe(0);
    // It learns the (noisy linear) rule.
    expect(result.history.loss[3]).toBeLessThan(result.history.loss[0]);
    expect(result.history.val_acc[3]).toBeGreaterThan(0.8);
    const svg = recorded.files.get('training-curves.svg')!;
    expect(svg).toMatch(/^<svg /);
    expect(svg.match(/<polyline /g)).toHaveLength(4);
    expect(recorded.logs.at(-1)).toMatch(/^trained 4 epochs in [\d.]+ s on wasm$/);
    tf.dispose([x, y]);
    m.dispose();
  });

  it('stops when the monitored metric stops improving and restores the best weights', async () => {
    // Random labels and a high learning rate: validation loss rises soon after the first epochs.
    const { x, y } = data(160, 6, 'all');
    const validation = data(80, 7, 'all');
    const m = model(7, { lr: 0.05, dropout: 0.01, hidden: 64 });
    const { result, recorded } = await recording(() => fitModel(m, x, y, { epochs: 40, batchSize: 16, seed: 2, validationData: validation, earlyStopping: { patience: 2 }, curvesFile: 'curves.svg' }));
    expect(result.stoppedEarly).toBe(true);
    const val = result.history.val_loss;
    const best = val.indexOf(Math.min(...val)) + 1;
    expect(result.bestEpoch).toBe(best);
    expect(result.epochs).toBe(best + 3); // patience 2: three epochs without improvement end it
    // The model holds the weights of the best epoch: its validation loss now is that epoch's.
    const loss = tf.tidy(() => tf.metrics.binaryCrossentropy(validation.y, m.predict(validation.x) as tf.Tensor).mean().dataSync()[0]);
    expect(loss).toBeCloseTo(val[best - 1], 5);
    expect(loss).toBeLessThan(val[val.length - 1]);
    expect(recorded.files.get('curves.svg')).toContain('stroke-dasharray'); // the restored epoch is marked, and says so
    expect(recorded.files.get('curves.svg')).toContain(`>best val_loss: epoch ${best}, weights kept</text>`);
    tf.dispose([x, y, validation.x, validation.y]);
    m.dispose();
  });

  it('weighs the loss by class: a class with weight 0 is not learned', async () => {
    const { x, y } = data(200, 8, 'all');
    const predictedSpamShare = async (classWeight?: Record<number, number>) => {
      const m = model(8, { lr: 0.02 });
      await fitModel(m, x, y, { epochs: 5, batchSize: 20, seed: 3, classWeight, curvesFile: false });
      const mean = tf.tidy(() => (m.predict(x) as tf.Tensor).mean().dataSync()[0]);
      m.dispose();
      return mean;
    };
    expect(await predictedSpamShare({ 0: 1, 1: 0 })).toBeLessThan(0.1);
    expect(await predictedSpamShare({ 0: 0, 1: 1 })).toBeGreaterThan(0.9);
    const unweighted = await predictedSpamShare();
    expect(unweighted).toBeGreaterThan(0.3);
    expect(unweighted).toBeLessThan(0.7);
    tf.dispose([x, y]);
  });
});

describe('fitModel diagnostics', () => {
  it('KILN5006 for a model that was not compiled', async () => {
    const { x, y } = data(10, 9);
    const m = tf.sequential({ layers: [tf.layers.dense({ inputShape: [12], units: 1 })] });
    expect(await codeOf(fitModel(m, x, y, base))).toBe('KILN5006');
    tf.dispose([x, y]);
  });

  it('KILN5004 when x and y have different row counts', async () => {
    const { x } = data(10, 10);
    const { y } = data(11, 10);
    expect(await codeOf(fitModel(model(1), x, y, base))).toBe('KILN5004');
    tf.dispose([x, y]);
  });

  it('KILN5007 when the rows are not as wide as the model input', async () => {
    const sparse = { rows: 2, columns: 5, indptr: [0, 1, 2], indices: [0, 4], values: [1, 1] };
    expect(await codeOf(fitModel(model(1), csrRows(sparse), tf.tensor2d([[0], [1]]), base))).toBe('KILN5007');
  });

  it('KILN5003 for invalid options', async () => {
    const { x, y } = data(10, 11);
    expect(await codeOf(fitModel(model(1), x, y, { ...base, epochs: 0 }))).toBe('KILN5003');
    expect(await codeOf(fitModel(model(1), x, y, { ...base, batchSize: 2.5 }))).toBe('KILN5003');
    expect(await codeOf(fitModel(model(1), x, y, { ...base, validationSplit: 1 }))).toBe('KILN5003');
    expect(await codeOf(fitModel(model(1), x, y, { ...base, classWeight: { 0: -1 } }))).toBe('KILN5003');
    tf.dispose([x, y]);
  });

  it('KILN5002 with a suggestion for an unknown early-stopping metric', async () => {
    const { x, y } = data(20, 12);
    try {
      await fitModel(model(1), x, y, { ...base, earlyStopping: { patience: 1, monitor: 'val_los' } });
      throw new Error('expected a KilnError');
    } catch (e) {
      expect(isKilnError(e) && e.diagnostics[0].code).toBe('KILN5002');
      expect((e as Error).message).toContain("unknown early stopping metric 'val_los'. did you mean 'val_loss'");
      expect((e as KilnError).diagnostics[0].hint).toBe('Valid values: loss, acc, val_loss, val_acc.');
    }
    tf.dispose([x, y]);
  });

  it('KILN5005 when the loss becomes NaN', async () => {
    const { x, y } = data(20, 13);
    const poisoned = tf.tidy(() => y.mul(tf.scalar(Number.NaN)));
    expect(await codeOf(fitModel(model(1), x, poisoned, base))).toBe('KILN5005');
    tf.dispose([x, y, poisoned]);
  });
});
