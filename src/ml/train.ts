// fitModel: the training loop kiln runs instead of LayersModel.fit, so that a run repeats bit for bit.
// tf's fit shuffles with Math.random and reuses one dropout seed for every batch; here the seeded generator
// orders the batches, picks the validation rows and gives dropout a fresh seed per step. Batches are made
// dense one at a time from a RowSource, and every epoch reports to the node context (metrics, progress).
import * as tf from '@tensorflow/tfjs';
import { KilnError, diag } from '../diagnostics/index.ts';
import { nodeContext } from '../runtime/context.ts';
import { activeBackend } from './backend.ts';
import { featureWidthMismatch, invalidParameter as invalid, rowCountMismatch, unknownValue } from './errors.ts';
import { renderCurves } from './curves.ts';
import { createRandom, permutation, stratifiedSplitIndices, type Seed } from './random.ts';
import { tensorRows, type RowSource } from './sparse.ts';

export interface EarlyStopping {
  /** Metric to watch: `val_loss` (the default with validation data), `loss`, `val_acc`, `acc`. */
  monitor?: string;
  /** Epochs without improvement before training stops. */
  patience: number;
  /** Smallest change that counts as an improvement (default 0). */
  minDelta?: number;
  /** Whether a smaller value is better; by default `max` for accuracy metrics, `min` otherwise. */
  mode?: 'min' | 'max';
  /** Put back the weights of the best epoch at the end (default true). */
  restoreBestWeights?: boolean;
}

export interface FitOptions {
  epochs: number;
  /** Rows per gradient step (default 32). */
  batchSize?: number;
  /** Seed of the batch order, the validation rows and dropout. Required: kiln runs repeat. */
  seed: Seed;
  /** Fraction of the rows held out for validation, drawn at random per class (0 or absent: none). */
  validationSplit?: number;
  /** Explicit validation rows, instead of validationSplit. */
  validationData?: { x: tf.Tensor | RowSource; y: tf.Tensor };
  earlyStopping?: EarlyStopping;
  /** Loss weight of each class index, or `balanced` (rows / (classes x rows of the class)). */
  classWeight?: Record<number, number> | 'balanced';
  /** File name for the training-curves SVG saved with the run; false for none. */
  curvesFile?: string | false;
  /** Title on the curves image. */
  title?: string;
}

export interface FitResult {
  /** Per-epoch metrics: `loss`, `acc`, `val_loss`, `val_acc` (accuracy only for classification losses). */
  history: Record<string, number[]>;
  /** Epochs run. */
  epochs: number;
  /** The epoch (1-based) whose weights the model has at the end, when early stopping restored them. */
  bestEpoch: number | null;
  stoppedEarly: boolean;
  seconds: number;
  /** Training rows processed per second, validation excluded. */
  samplesPerSecond: number;
  backend: string;
}

/**
 * Training-history metrics are recorded with the run as `train.loss`, `train.acc`, `train.val_loss`, `train.val_acc`:
 * beside a pipeline's own test metrics (`accuracy`, `f1`) in `kiln runs show` and report tables, a bare `acc` could
 * not be told from them. The history returned keeps the short names that early stopping's `monitor` uses.
 */
export const TRAINING_METRIC_PREFIX = 'train.';

function trainingMetrics(metrics: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(metrics).map(([k, v]) => [TRAINING_METRIC_PREFIX + k, v]));
}

type AccuracyKind = 'binary' | 'categorical' | 'sparse' | null;
type LossFn = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;

const SEEDED_DROPOUT = new Set(['Dropout', 'SpatialDropout1D']);
const UNSEEDABLE_NOISE = new Set(['AlphaDropout', 'GaussianDropout', 'GaussianNoise']);
const RANDOM_INITIALIZERS = /Glorot|He|LeCun|Random|TruncatedNormal|VarianceScaling|Orthogonal/;

function allLayers(model: tf.LayersModel): tf.layers.Layer[] {
  const out: tf.layers.Layer[] = [];
  const visit = (layers: tf.layers.Layer[]) => {
    for (const l of layers) {
      out.push(l);
      const inner = (l as unknown as { layers?: tf.layers.Layer[] }).layers;
      if (Array.isArray(inner)) visit(inner);
    }
  };
  visit(model.layers);
  return out;
}

/** Layer initialisers that draw from Math.random because they were given no seed (the run will not repeat). */
function unseededInitializers(model: tf.LayersModel): string[] {
  const found: string[] = [];
  for (const layer of allLayers(model)) {
    const config = layer.getConfig() as Record<string, unknown>;
    for (const [key, value] of Object.entries(config)) {
      if (!key.endsWith('Initializer') || typeof value !== 'object' || value === null) continue;
      const init = value as { className?: string; config?: { seed?: unknown } };
      if (init.className && RANDOM_INITIALIZERS.test(init.className) && init.config?.seed == null) found.push(`${layer.name}.${key}`);
    }
  }
  return found;
}

function accuracyKind(model: tf.LayersModel, outputWidth: number): AccuracyKind {
  const loss = typeof model.loss === 'string' ? model.loss : '';
  if (/sparse_?categorical_?crossentropy/i.test(loss)) return 'sparse';
  if (/categorical_?crossentropy/i.test(loss)) return 'categorical';
  if (/binary_?crossentropy|hinge/i.test(loss)) return outputWidth === 1 ? 'binary' : 'categorical';
  return null;
}

/** Per-row correctness (1 or 0) of predictions against targets. */
function correct(kind: Exclude<AccuracyKind, null>, yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    if (kind === 'binary') return tf.cast(tf.equal(tf.greater(yPred, 0.5), tf.greater(yTrue, 0.5)), 'float32').reshape([-1]);
    if (kind === 'sparse') return tf.cast(tf.equal(tf.argMax(yPred, -1), tf.cast(yTrue.reshape([-1]), 'int32')), 'float32');
    return tf.cast(tf.equal(tf.argMax(yPred, -1), tf.argMax(yTrue, -1)), 'float32');
  });
}

/** Class index of every row of y: argmax for one-hot rows, the rounded value for a single column. */
function classIndices(y: tf.Tensor): Int32Array {
  const rows = y.shape[0];
  const width = y.size / Math.max(rows, 1);
  const values = y.dataSync();
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    if (width === 1) out[r] = Math.round(values[r]);
    else {
      let best = 0;
      for (let c = 1; c < width; c++) if (values[r * width + c] > values[r * width + best]) best = c;
      out[r] = best;
    }
  }
  return out;
}

function checkOptions(o: FitOptions, rows: number): void {
  if (!Number.isInteger(o.epochs) || o.epochs < 1) throw invalid('epochs', 'a whole number of at least 1', o.epochs);
  const batchSize = o.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw invalid('batch size', 'a whole number of at least 1', batchSize);
  const vs = o.validationSplit ?? 0;
  if (!(typeof vs === 'number' && vs >= 0 && vs < 1)) throw invalid('validation split', 'a number in [0, 1)', vs);
  if (o.earlyStopping) {
    const p = o.earlyStopping.patience;
    if (!Number.isInteger(p) || p < 0) throw invalid('early stopping patience', 'a whole number of at least 0', p);
  }
  if (o.seed === undefined || o.seed === null || o.seed === '') throw invalid('seed', 'a number or string', o.seed);
  if (rows === 0) throw invalid('training rows', 'at least 1', 0);
  if (typeof o.classWeight === 'object') {
    for (const [k, w] of Object.entries(o.classWeight)) if (!(typeof w === 'number' && Number.isFinite(w) && w >= 0)) throw invalid(`class weight of class ${k}`, 'a finite number of at least 0', w);
  } else if (o.classWeight !== undefined && o.classWeight !== 'balanced') {
    throw unknownValue('class weight', String(o.classWeight), ['balanced', 'a map from class index to weight']);
  }
}

/** Tensors fitModel makes and must release whatever happens, and dropout seeds it must put back. */
interface Held {
  tensors: tf.Tensor[];
  bestWeights: tf.Tensor[] | null;
  dropouts: Array<{ seed?: number }>;
  seeds: Array<number | undefined>;
}

/**
 * Trains a compiled single-output model on x (a tensor, or a RowSource such as csrRows(features)) and y.
 * Deterministic for a given seed, data and backend, provided the model's initialisers were seeded
 * (a warning is logged for those that were not). Returns the history; the model is trained in place.
 */
export async function fitModel(model: tf.LayersModel, x: tf.Tensor | RowSource, y: tf.Tensor, options: FitOptions): Promise<FitResult> {
  const source: RowSource = x instanceof tf.Tensor ? tensorRows(x) : x;
  if (source.rows !== y.shape[0]) throw rowCountMismatch('training data', 'x', source.rows, 'y', y.shape[0]);
  checkOptions(options, source.rows);
  // A Sequential keeps its compiled loss functions on the functional model it wraps.
  const lossFunctions = model.lossFunctions?.length ? model.lossFunctions : (model as unknown as { model?: tf.LayersModel }).model?.lossFunctions;
  if (!model.optimizer || !lossFunctions?.length) throw new KilnError(diag('KILN5006', { reason: 'it has not been compiled (no optimizer or loss)' }));
  if (model.outputs.length !== 1) throw new KilnError(diag('KILN5006', { reason: `it has ${model.outputs.length} outputs; fitModel trains single-output models` }));
  const inputWidth = model.inputs[0].shape.slice(1).reduce<number>((a, b) => a * (b ?? 1), 1);
  if (inputWidth !== source.columns) throw featureWidthMismatch(source.columns, inputWidth);
  const held: Held = { tensors: [], bestWeights: null, dropouts: [], seeds: [] };
  try {
    return await trainEpochs(model, source, y, options, lossFunctions[0], held);
  } finally {
    tf.dispose([...held.tensors, ...(held.bestWeights ?? [])]);
    held.dropouts.forEach((d, i) => (d.seed = held.seeds[i]));
  }
}

async function trainEpochs(model: tf.LayersModel, source: RowSource, y: tf.Tensor, options: FitOptions, lossFn: LossFn, held: Held): Promise<FitResult> {
  const ctx = nodeContext();
  const outputShape = model.outputs[0].shape;
  const kind = accuracyKind(model, outputShape[outputShape.length - 1] ?? 1);
  const batchSize = options.batchSize ?? 32;
  // Targets shaped like the output, except for sparse labels, which stay class indices.
  const asTargets = (t: tf.Tensor) => {
    if (kind === 'sparse' || t.rank !== 1) return t;
    const reshaped = t.reshape([-1, 1]);
    held.tensors.push(reshaped);
    return reshaped;
  };
  const yAll = asTargets(y);
  const classes = kind ? classIndices(yAll) : new Int32Array(source.rows);

  for (const name of unseededInitializers(model)) ctx.log(`warning: ${name} has no seed; the initial weights (and so this run) will not repeat`);
  const layers = allLayers(model);
  for (const l of layers) if (UNSEEDABLE_NOISE.has(l.getClassName())) ctx.log(`warning: ${l.name} (${l.getClassName()}) draws from Math.random; this run will not repeat`);
  held.dropouts.push(...(layers.filter((l) => SEEDED_DROPOUT.has(l.getClassName())) as unknown as Array<{ seed?: number }>));
  held.seeds.push(...held.dropouts.map((d) => d.seed));

  // Rows: a seeded, per-class validation hold-out, or explicit validation data.
  let trainRows: number[] = Array.from({ length: source.rows }, (_, i) => i);
  let validation: { source: RowSource; y: tf.Tensor; rows: number[] } | null = null;
  if (options.validationData) {
    const vSource = options.validationData.x instanceof tf.Tensor ? tensorRows(options.validationData.x) : options.validationData.x;
    const vy = asTargets(options.validationData.y);
    if (vSource.rows !== vy.shape[0]) throw rowCountMismatch('validation data', 'x', vSource.rows, 'y', vy.shape[0]);
    validation = { source: vSource, y: vy, rows: Array.from({ length: vSource.rows }, (_, i) => i) };
  } else if ((options.validationSplit ?? 0) > 0) {
    const split = stratifiedSplitIndices(Array.from(classes, String), options.validationSplit!, createRandom(options.seed, 'validation'), 'validation split');
    if (split.train.length === 0 || split.test.length === 0) throw invalid('validation split', `a fraction that leaves rows on both sides (${source.rows} rows)`, options.validationSplit);
    trainRows = split.train;
    validation = { source, y: yAll, rows: split.test };
  }
  const weightOf = classWeights(options.classWeight, classes, trainRows);

  const metricNames = ['loss', ...(kind ? ['acc'] : []), ...(validation ? ['val_loss', ...(kind ? ['val_acc'] : [])] : [])];
  const es = options.earlyStopping;
  const monitor = es?.monitor ?? (validation ? 'val_loss' : 'loss');
  if (es && !metricNames.includes(monitor)) throw unknownValue('early stopping metric', monitor, metricNames);
  const maximize = (es?.mode ?? (/acc/.test(monitor) ? 'max' : 'min')) === 'max';
  const minDelta = Math.abs(es?.minDelta ?? 0);
  const restoreBest = es?.restoreBestWeights ?? true;

  const shuffleRng = createRandom(options.seed, 'shuffle');
  const dropoutRng = createRandom(options.seed, 'dropout');
  const optimizer = model.optimizer;
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const history: Record<string, number[]> = Object.fromEntries(metricNames.map((m) => [m, []]));
  let best = maximize ? -Infinity : Infinity;
  let bestEpoch: number | null = null;
  let sinceBest = 0;
  let stoppedEarly = false;
  let trainSeconds = 0;
  const started = performance.now();

  let epoch = 0;
  while (epoch < options.epochs) {
    epoch++;
    const epochStart = performance.now();
    const order = permutation(trainRows.length, shuffleRng);
    let lossSum: tf.Tensor = tf.scalar(0);
    let correctSum: tf.Tensor = tf.scalar(0);
    try {
      for (let start = 0; start < order.length; start += batchSize) {
        ctx.signal.throwIfAborted();
        const rows = Array.from(order.subarray(start, Math.min(start + batchSize, order.length)), (i) => trainRows[i]);
        for (const d of held.dropouts) d.seed = dropoutRng.tfSeed();
        const { xb, yb } = batchTensors(source, yAll, rows);
        const wb = weightOf ? tf.tensor1d(Float32Array.from(rows, (r) => weightOf[classes[r]]), 'float32') : null;
        const step: { correct?: tf.Tensor } = {};
        const cost = optimizer.minimize(
          () => {
            const yPred = model.apply(xb, { training: true }) as tf.Tensor;
            if (kind) step.correct = tf.keep(tf.sum(correct(kind, yb, yPred)));
            const perRow = lossFn(yb, yPred);
            let loss = wb ? tf.mean(tf.mul(perRow, wb.reshape(perRow.shape))) : tf.mean(perRow);
            for (const reg of model.calculateLosses()) loss = tf.add(loss, reg);
            return loss as tf.Scalar;
          },
          true,
          variables,
        )!;
        // Sums stay on the backend until the end of the epoch: reading a value every batch would stall a GPU.
        const [nextLoss, nextCorrect] = tf.tidy(() => [tf.add(lossSum, tf.mul(cost, rows.length)), step.correct ? tf.add(correctSum, step.correct) : correctSum.clone()]);
        tf.dispose([lossSum, correctSum, cost, xb, yb, ...(wb ? [wb] : []), ...(step.correct ? [step.correct] : [])]);
        lossSum = nextLoss;
        correctSum = nextCorrect;
        // Yield now and then so that an interrupt (SIGINT) can reach the abort signal.
        if ((start / batchSize) % 16 === 15) await new Promise<void>((r) => setImmediate(r));
      }
    } finally {
      held.tensors.push(lossSum, correctSum);
    }
    const loss = (await lossSum.data())[0] / trainRows.length;
    const acc = (await correctSum.data())[0] / trainRows.length;
    trainSeconds += (performance.now() - epochStart) / 1000;
    if (!Number.isFinite(loss)) throw new KilnError(diag('KILN5005', { metric: 'loss', value: String(loss), epoch }));

    const metrics: Record<string, number> = { loss };
    if (kind) metrics.acc = acc;
    if (validation) Object.assign(metrics, await evaluateRows(model, lossFn, kind, validation, batchSize));
    for (const m of metricNames) history[m].push(metrics[m]);
    ctx.logMetrics(trainingMetrics(metrics), epoch);
    const elapsed = (performance.now() - started) / 1000;
    ctx.progress(epoch, options.epochs, { loss: Number(loss.toPrecision(4)), eta_s: Math.round((elapsed / epoch) * (options.epochs - epoch)) });

    if (es) {
      const value = metrics[monitor];
      if (maximize ? value > best + minDelta : value < best - minDelta) {
        best = value;
        bestEpoch = epoch;
        sinceBest = 0;
        if (restoreBest) {
          tf.dispose(held.bestWeights ?? []);
          held.bestWeights = model.getWeights().map((w) => w.clone());
        }
      } else if (++sinceBest > es.patience) {
        stoppedEarly = true;
        break;
      }
    }
  }
  if (held.bestWeights && bestEpoch !== epoch) model.setWeights(held.bestWeights);
  const seconds = (performance.now() - started) / 1000;
  const ran = history.loss.length;
  const restoredEpoch = es && restoreBest ? bestEpoch : null;
  const backend = activeBackend() ?? tf.getBackend();
  ctx.log(`trained ${ran} epoch${ran === 1 ? '' : 's'} in ${seconds.toFixed(1)} s on ${backend}` + (stoppedEarly ? `, stopped early; weights of epoch ${restoredEpoch ?? ran} kept` : ''));
  const markLabel = restoredEpoch === null ? undefined : `best ${monitor}: epoch ${restoredEpoch}, weights kept`;
  if (options.curvesFile !== false) ctx.logFile(options.curvesFile ?? 'training-curves.svg', renderCurves(history, { title: options.title ?? 'Training curves', markEpoch: restoredEpoch, markLabel }));
  return {
    history,
    epochs: ran,
    bestEpoch: restoredEpoch,
    stoppedEarly,
    seconds,
    samplesPerSecond: trainSeconds > 0 ? (ran * trainRows.length) / trainSeconds : 0,
    backend,
  };
}

/** Loss weight per class index (Keras semantics: the loss is the mean of weight x row loss), or null for none. */
function classWeights(option: FitOptions['classWeight'], classes: Int32Array, trainRows: number[]): Float32Array | null {
  if (option === undefined) return null;
  const count = new Map<number, number>();
  for (const r of trainRows) count.set(classes[r], (count.get(classes[r]) ?? 0) + 1);
  const k = classes.reduce((m, c) => Math.max(m, c), 0) + 1;
  const weights = new Float32Array(k).fill(1);
  for (let c = 0; c < k; c++) {
    if (option === 'balanced') weights[c] = count.get(c) ? trainRows.length / (count.size * count.get(c)!) : 0;
    else if (option[c] !== undefined) weights[c] = option[c];
  }
  return weights;
}

function batchTensors(source: RowSource, targets: tf.Tensor, rows: ArrayLike<number>): { xb: tf.Tensor; yb: tf.Tensor } {
  const xb = source.batch(rows);
  const yb = tf.tidy(() => tf.gather(targets, tf.tensor1d(Int32Array.from(rows), 'int32')));
  return { xb, yb };
}

/** Mean loss (unweighted) and accuracy of the model on the validation rows, in batches, with dropout off. */
async function evaluateRows(model: tf.LayersModel, lossFn: LossFn, kind: AccuracyKind, validation: { source: RowSource; y: tf.Tensor; rows: number[] }, batchSize: number): Promise<Record<string, number>> {
  const { source, y, rows } = validation;
  let lossSum = 0;
  let correctSum = 0;
  for (let start = 0; start < rows.length; start += batchSize) {
    const { xb, yb } = batchTensors(source, y, rows.slice(start, start + batchSize));
    const [l, c] = tf.tidy(() => {
      const yPred = model.apply(xb, { training: false }) as tf.Tensor;
      return [tf.sum(lossFn(yb, yPred)), kind ? tf.sum(correct(kind, yb, yPred)) : tf.scalar(0)];
    });
    try {
      lossSum += (await l.data())[0];
      correctSum += (await c.data())[0];
    } finally {
      tf.dispose([xb, yb, l, c]);
    }
  }
  const out: Record<string, number> = { val_loss: lossSum / rows.length };
  if (kind) out.val_acc = correctSum / rows.length;
  return out;
}
