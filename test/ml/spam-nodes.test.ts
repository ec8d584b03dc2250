// The spam pipeline's node functions on a real slice of the corpus (hard-ham-1 and spam-1, 750 emails):
// ingest, the stratified split, training (repeatable), prediction that does not depend on the batch, evaluation.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend, weightsFingerprint } from '../../src/ml/index.ts';
import { isKilnError } from '../../src/diagnostics/index.ts';
import { evaluate, featurize, fitVocabulary, ingest, predict, splitEmails, trainClassifier, type ClassifierOptions, type Email, type FeatureMatrix, type Prediction, type Vocabulary } from '../../pipelines/spam/nodes.ts';
import { rocAuc } from '../../pipelines/spam/evaluate.ts';

async function codeOf(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (e) {
    if (isKilnError(e)) return `${e.diagnostics[0].code} ${e.diagnostics[0].message}`;
    throw e;
  }
  return 'no error';
}

const options: ClassifierOptions = { epochs: 8, batch_size: 32, learning_rate: 0.01, hidden_units: 16, dropout: 0.2, validation_split: 0.1, patience: 2 };
let emails: Email[];
let train: Email[];
let test: Email[];
let vocabulary: Vocabulary;
let trainFeatures: FeatureMatrix;
let testFeatures: FeatureMatrix;

beforeAll(async () => {
  await selectBackend('wasm');
  emails = await ingest({ groups: ['hard-ham-1', 'spam-1'] });
  ({ train, test } = splitEmails({ emails, test_ratio: 0.2, seed: 7 }));
  vocabulary = fitVocabulary({ emails: train, options: { vocabulary_size: 1500, min_df: 2 } });
  trainFeatures = featurize({ emails: train, vocabulary });
  testFeatures = featurize({ emails: test, vocabulary });
});

describe('ingest', () => {
  it('reads the groups of the stdlib corpus with unique ids and labels from the group', () => {
    expect(emails).toHaveLength(750);
    expect(new Set(emails.map((e) => e.id)).size).toBe(750);
    expect(emails[0]).toMatchObject({ id: 'hard-ham-1/00001', group: 'hard-ham-1', label: 'ham' });
    expect(emails.filter((e) => e.label === 'spam').every((e) => e.group === 'spam-1')).toBe(true);
    expect(emails.filter((e) => e.label === 'spam')).toHaveLength(500);
    expect(emails[0].text).toMatch(/^Return-Path: /);
    expect(emails.every((e) => /^(From |[\w-]+:)/.test(e.text))).toBe(true);
  });

  it('gives KILN5002 with a suggestion for an unknown group', async () => {
    expect(await codeOf(() => ingest({ groups: ['spam-3'] }))).toMatch(/^KILN5002 unknown corpus group 'spam-3'\. did you mean 'spam-1'/);
  });
});

describe('splitEmails', () => {
  it('holds out the ratio of each label, deterministically for a seed, in corpus order', () => {
    expect(test.filter((e) => e.label === 'spam')).toHaveLength(100);
    expect(test.filter((e) => e.label === 'ham')).toHaveLength(50);
    expect(train).toHaveLength(600);
    expect(splitEmails({ emails, test_ratio: 0.2, seed: 7 })).toEqual({ train, test });
    expect(splitEmails({ emails, test_ratio: 0.2, seed: 8 }).test.map((e) => e.id)).not.toEqual(test.map((e) => e.id));
    const position = new Map(emails.map((e, i) => [e.id, i]));
    const order = test.map((e) => position.get(e.id)!);
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });

  it('gives KILN5003 for a ratio outside (0, 1)', async () => {
    expect(await codeOf(() => splitEmails({ emails, test_ratio: 1.2, seed: 1 }))).toBe('KILN5003 test ratio must be a number between 0 and 1 (exclusive), but is 1.2');
  });
});

describe('trainClassifier and predict', () => {
  let classifier: tf.LayersModel;
  let predictions: Prediction[];

  beforeAll(async () => {
    classifier = await trainClassifier({ features: trainFeatures, emails: train, options, seed: 3 });
    predictions = await predict({ classifier, features: testFeatures });
  });

  it('trains repeatably: the same seed gives bit-identical weights', async () => {
    const again = await trainClassifier({ features: trainFeatures, emails: train, options, seed: 3 });
    expect(weightsFingerprint(again)).toBe(weightsFingerprint(classifier));
    again.dispose();
  });

  it('separates spam from ham on held-out emails', () => {
    const { metrics } = evaluate({ predictions, emails: test });
    expect(metrics.accuracy).toBeGreaterThan(0.9);
    expect(metrics.roc_auc).toBeGreaterThan(0.95);
  });

  it('predicts each email the same, bit for bit, alone or in a batch of any size', async () => {
    const rowsOf = (start: number, end: number): FeatureMatrix => {
      const from = testFeatures.indptr[start];
      const to = testFeatures.indptr[end];
      return {
        rows: end - start,
        columns: testFeatures.columns,
        indptr: testFeatures.indptr.slice(start, end + 1).map((p) => p - from),
        indices: testFeatures.indices.slice(from, to),
        values: testFeatures.values.slice(from, to),
      };
    };
    for (const size of [1, 7, 64, 149]) {
      for (let start = 0; start < test.length; start += size) {
        const part = await predict({ classifier, features: rowsOf(start, Math.min(test.length, start + size)) });
        part.forEach((p, i) => expect(p, `row ${start + i} in batches of ${size}`).toStrictEqual(predictions[start + i]));
      }
    }
    // And from the raw text alone, as a scoring request would send it.
    const [one] = await predict({ classifier, features: featurize({ emails: [{ text: test[5].text }], vocabulary }) });
    expect(one).toStrictEqual(predictions[5]);
  });

  it('featurizes one email of a few kilobytes in well under a millisecond', () => {
    const sample = test.slice(0, 100);
    const times = sample.map(({ text }) => {
      const t0 = performance.now();
      featurize({ emails: [{ text }], vocabulary });
      return performance.now() - t0;
    });
    times.sort((a, b) => a - b);
    expect(times[50]).toBeLessThan(1);
  });

  it('gives KILN5007 when the features come from another vocabulary', async () => {
    const other = fitVocabulary({ emails: train, options: { vocabulary_size: 100, min_df: 2 } });
    expect(await codeOf(() => predict({ classifier, features: featurize({ emails: test.slice(0, 2), vocabulary: other }) }))).toBe('KILN5007 the features have 100 columns but the model expects 1500');
  });

  it('checks its options and inputs', async () => {
    const run = (o: Partial<ClassifierOptions>, labels = train) => codeOf(() => trainClassifier({ features: trainFeatures, emails: labels, options: { ...options, ...o }, seed: 1 }));
    expect(await run({ dropout: 1.5 })).toBe('KILN5003 train.dropout must be a rate in [0, 1), but is 1.5');
    expect(await run({ class_weight: 'balancd' as 'balanced' })).toMatch(/^KILN5002 unknown train.class_weight 'balancd'\. did you mean 'balanced'/);
    expect(await run({}, train.slice(1))).toBe('KILN5004 training data: features has 600 rows but emails has 599');
  });
});

describe('evaluate', () => {
  const p = (label: 'spam' | 'ham', spam_probability: number): Prediction => ({ label, spam_probability });

  it('computes the metrics of a hand-worked example (spam positive)', () => {
    const predictions = [p('spam', 0.9), p('spam', 0.8), p('ham', 0.3), p('spam', 0.6), p('ham', 0.2)];
    const truth = ['spam', 'ham', 'ham', 'spam', 'spam'] as const;
    const { metrics, report } = evaluate({ predictions, emails: truth.map((label) => ({ label })) });
    // tp: rows 0 and 3; fp: row 1; tn: row 2; fn: row 4.
    expect(metrics).toEqual({ accuracy: 0.6, precision: 2 / 3, recall: 2 / 3, f1: 2 / 3, true_positives: 2, false_positives: 1, true_negatives: 1, false_negatives: 1, roc_auc: 0.5 });
    // AUC: of the 6 (spam, ham) pairs, spam scores higher in 3: (0.9, 0.8), (0.9, 0.3), (0.6, 0.3).
    expect(report.confusion_matrix).toEqual({ labels: ['ham', 'spam'], matrix: [[1, 1], [1, 2]] });
    expect(report.per_class.ham).toEqual({ precision: 0.5, recall: 0.5, f1: 0.5, support: 2 });
    expect(report.count).toBe(5);
  });

  it('counts tied scores as half in ROC AUC and leaves it out when one class is absent', () => {
    expect(rocAuc([0.5, 0.5, 0.1], [true, false, false])).toBe(0.75);
    expect(rocAuc([0.9, 0.1], [true, false])).toBe(1);
    const { metrics } = evaluate({ predictions: [p('spam', 0.9)], emails: [{ label: 'spam' }] });
    expect(metrics).not.toHaveProperty('roc_auc');
    expect(metrics.precision).toBe(1);
  });

  it('gives KILN5004 when predictions and emails do not line up', async () => {
    expect(await codeOf(() => evaluate({ predictions: [p('ham', 0.1)], emails: [] }))).toBe('KILN5004 evaluation: predictions has 1 rows but emails has 0');
  });
});
