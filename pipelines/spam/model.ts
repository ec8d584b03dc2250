// The spam classifier: a small MLP (or a logistic layer when hidden_units is 0) on the sparse TF-IDF rows,
// trained with kiln's seeded fitModel, and predict, which scores rows in bounded chunks.
import * as tf from '@tensorflow/tfjs';
import { createRandom, csrRows, densifyRows, ensureBackend, featureWidthMismatch, fitModel, invalidParameter, rowCountMismatch, unknownValue, type FitResult } from 'kiln-ml/ml';
import type { FeatureMatrix } from './features.ts';
import type { Label, Prediction } from './types.ts';

export interface ClassifierOptions {
  epochs: number;
  batch_size: number;
  learning_rate: number;
  /** Width of the hidden ReLU layer; 0 for logistic regression on the features. */
  hidden_units: number;
  /** Dropout rate after the hidden layer (0 for none). */
  dropout: number;
  /** Fraction of the training rows held out (per class) to watch for early stopping. */
  validation_split: number;
  /** Epochs without a better validation loss before stopping (0: no early stopping). */
  patience: number;
  /** L2 penalty on the first layer's weights (default 0). */
  l2?: number;
  /** `balanced` weighs each class inversely to its frequency; `none` (default) weighs rows equally. */
  class_weight?: 'balanced' | 'none';
}

function check(o: ClassifierOptions): void {
  const whole = (what: string, v: number, min: number) => {
    if (!Number.isInteger(v) || v < min) throw invalidParameter(`train.${what}`, `a whole number of at least ${min}`, v);
  };
  whole('epochs', o.epochs, 1);
  whole('batch_size', o.batch_size, 1);
  whole('hidden_units', o.hidden_units, 0);
  whole('patience', o.patience, 0);
  if (!(o.learning_rate > 0 && Number.isFinite(o.learning_rate))) throw invalidParameter('train.learning_rate', 'a positive number', o.learning_rate);
  if (!(o.dropout >= 0 && o.dropout < 1)) throw invalidParameter('train.dropout', 'a rate in [0, 1)', o.dropout);
  if (o.l2 !== undefined && !(o.l2 >= 0)) throw invalidParameter('train.l2', 'a number of at least 0', o.l2);
  if (o.class_weight !== undefined && o.class_weight !== 'balanced' && o.class_weight !== 'none') throw unknownValue('train.class_weight', String(o.class_weight), ['balanced', 'none']);
}

/** The untrained, compiled classifier; its initial weights depend only on `seed`. */
export function buildClassifier(inputs: number, o: ClassifierOptions, seed: number | string): tf.Sequential {
  const rng = createRandom(seed, 'init');
  const model = tf.sequential({ name: 'spam_classifier' });
  const regularizer = o.l2 ? tf.regularizers.l2({ l2: o.l2 }) : undefined;
  if (o.hidden_units > 0) {
    model.add(tf.layers.dense({ inputShape: [inputs], units: o.hidden_units, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: rng.tfSeed() }), kernelRegularizer: regularizer, name: 'hidden' }));
    if (o.dropout > 0) model.add(tf.layers.dropout({ rate: o.dropout, name: 'dropout' }));
    model.add(tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed: rng.tfSeed() }), name: 'spam' }));
  } else {
    model.add(tf.layers.dense({ inputShape: [inputs], units: 1, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed: rng.tfSeed() }), kernelRegularizer: regularizer, name: 'spam' }));
  }
  model.compile({ optimizer: tf.train.adam(o.learning_rate), loss: 'binaryCrossentropy' });
  return model;
}

/** Trains the classifier and returns it with its training history. */
export async function train(features: FeatureMatrix, labels: readonly Label[], o: ClassifierOptions, seed: number): Promise<{ model: tf.Sequential; fit: FitResult }> {
  check(o);
  if (features.rows !== labels.length) throw rowCountMismatch('training data', 'features', features.rows, 'emails', labels.length);
  await ensureBackend();
  const model = buildClassifier(features.columns, o, seed);
  const y = tf.tensor2d(Float32Array.from(labels, (l) => (l === 'spam' ? 1 : 0)), [labels.length, 1]);
  try {
    const fit = await fitModel(model, csrRows(features), y, {
      epochs: o.epochs,
      batchSize: o.batch_size,
      seed,
      validationSplit: o.validation_split,
      earlyStopping: o.patience > 0 ? { patience: o.patience, monitor: o.validation_split > 0 ? 'val_loss' : 'loss', restoreBestWeights: true } : undefined,
      classWeight: o.class_weight === 'balanced' ? 'balanced' : undefined,
      title: 'spam classifier',
    });
    return { model, fit };
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    y.dispose();
  }
}

/** Rows per predict chunk: bounds the dense memory of a call to PREDICT_CHUNK x columns floats. */
export const PREDICT_CHUNK = 256;

/**
 * Backends on which a row's output was measured not to depend on the other rows of its batch (bench and
 * test/ml/spam-nodes.test.ts: every batch size from 1 to the whole test set gives the same bits). GPU and
 * TensorFlow C++ kernels are chosen by matrix shape and may add in another order, so there every chunk is
 * padded to exactly PREDICT_CHUNK rows instead, at the cost of computing the padding.
 */
const ROW_INDEPENDENT_BACKENDS = new Set(['wasm', 'cpu']);

/** Spam probabilities of the rows, in order; a row's result does not depend on the rows that came with it. */
export async function predictProbabilities(model: tf.LayersModel, features: FeatureMatrix): Promise<Float32Array> {
  const expected = model.inputs[0].shape[1];
  if (expected !== features.columns) throw featureWidthMismatch(features.columns, expected ?? -1);
  const backend = (await ensureBackend()).name;
  const pad = !ROW_INDEPENDENT_BACKENDS.has(backend);
  const out = new Float32Array(features.rows);
  const chunk = Math.min(PREDICT_CHUNK, features.rows);
  const buffer = new Float32Array((pad ? PREDICT_CHUNK : chunk) * features.columns);
  const rows = new Int32Array(chunk);
  for (let start = 0; start < features.rows; start += PREDICT_CHUNK) {
    const n = Math.min(PREDICT_CHUNK, features.rows - start);
    for (let i = 0; i < n; i++) rows[i] = start + i;
    densifyRows(features, rows.subarray(0, n), buffer);
    const height = pad ? PREDICT_CHUNK : n;
    if (pad) buffer.fill(0, n * features.columns);
    const x = tf.tensor2d(buffer.subarray(0, height * features.columns), [height, features.columns]);
    const y = model.predict(x) as tf.Tensor;
    try {
      out.set((await y.data()).subarray(0, n), start);
    } finally {
      tf.dispose([x, y]);
    }
  }
  return out;
}

export function toPredictions(probabilities: Float32Array, threshold = 0.5): Prediction[] {
  return Array.from(probabilities, (p) => ({ label: p >= threshold ? 'spam' : 'ham', spam_probability: p }));
}
