// The quality gate of the flagship: the whole chain on the full corpus (20% held out, seed 42) with the
// recommended parameters (bench/spam-quality.ts) must reach 98% accuracy and a spam F1 of 0.97 on the WASM
// backend. How long training takes is measured by `npx tsx bench/spam-quality.ts wasm`, not asserted here: a timed
// test fails on a loaded machine and proves nothing about speed.
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/ml/index.ts';
import { evaluate, featurize, fitVocabulary, ingest, predict, splitEmails, trainClassifier } from '../../pipelines/spam/nodes.ts';
import { parameters } from '../../bench/spam-quality.ts';

describe('spam filter on the full SpamAssassin corpus', () => {
  const params = parameters();
  let metrics: Record<string, number>;

  beforeAll(async () => {
    await selectBackend('wasm');
    const emails = await ingest({ groups: params.groups });
    const { train, test } = splitEmails({ emails, test_ratio: params.test_ratio, seed: params.seed });
    const vocabulary = fitVocabulary({ emails: train, options: params.features });
    const trainFeatures = featurize({ emails: train, vocabulary });
    const classifier = await trainClassifier({ features: trainFeatures, emails: train, options: params.train, seed: params.seed });
    const predictions = await predict({ classifier, features: featurize({ emails: test, vocabulary }) });
    ({ metrics } = evaluate({ predictions, emails: test }));
  });

  it('reaches 98% accuracy and a spam F1 of 0.97 on the held-out emails', () => {
    expect(metrics.accuracy).toBeGreaterThanOrEqual(0.98);
    expect(metrics.f1).toBeGreaterThanOrEqual(0.97);
    expect(metrics.roc_auc).toBeGreaterThan(0.99);
  });
});
