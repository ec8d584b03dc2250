// The whole spam chain in-process (ingest → split → vocabulary → featurize → train → predict → evaluate),
// as the pipeline will run it, printing test quality and the time of each stage as JSON.
// Usage: npx tsx bench/spam-quality.ts [backend] ['{"train": {...}, "features": {...}}']
import { pathToFileURL } from 'node:url';
import { withNodeContext, type NodeContext } from '../src/runtime/context.ts';
import { selectBackend, weightsFingerprint, type BackendRequest } from '../src/ml/index.ts';
import { evaluate, featurize, fitVocabulary, ingest, predict, splitEmails, trainClassifier, type ClassifierOptions, type VocabularyOptions } from '../pipelines/spam/nodes.ts';

export const DEFAULTS = {
  seed: 42,
  test_ratio: 0.2,
  groups: ['easy-ham-1', 'easy-ham-2', 'hard-ham-1', 'spam-1', 'spam-2'],
  features: { vocabulary_size: 5000, min_df: 3, max_df: 1, weighting: 'tfidf', sublinear_tf: true } satisfies VocabularyOptions,
  train: { epochs: 12, batch_size: 64, learning_rate: 0.002, hidden_units: 32, dropout: 0.3, validation_split: 0.1, patience: 3, class_weight: 'none' } satisfies ClassifierOptions,
};

/** Parameters of a run: DEFAULTS with `overrides` ({ seed, features: {...}, train: {...} }) merged in. */
export function parameters(overrides: { train?: Partial<ClassifierOptions>; features?: Partial<VocabularyOptions>; seed?: number } = {}) {
  return { ...DEFAULTS, seed: overrides.seed ?? DEFAULTS.seed, features: { ...DEFAULTS.features, ...overrides.features }, train: { ...DEFAULTS.train, ...overrides.train } };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await main();

async function main(): Promise<void> {
  const backend = (process.argv[2] ?? 'wasm') as BackendRequest;
  const params = parameters(JSON.parse(process.argv[3] ?? '{}'));

  const ctx: NodeContext = {
    node: 'spam-quality',
    runId: null,
    backend,
    signal: new AbortController().signal,
    progress: (done, total, info) => process.stderr.write(`epoch ${done}/${total} ${JSON.stringify(info)}\n`),
    logMetrics: (m, step) => process.stderr.write(`  ${step}: ${Object.entries(m).map(([k, v]) => `${k}=${v.toFixed(4)}`).join(' ')}\n`),
    logFile: () => {},
    log: (m) => process.stderr.write(m + '\n'),
  };

  const seconds: Record<string, number> = {};
  async function stage<T>(name: string, fn: () => T | Promise<T>): Promise<T> {
    const t = performance.now();
    const out = await fn();
    seconds[name] = Number(((performance.now() - t) / 1000).toFixed(3));
    return out;
  }

  await withNodeContext(ctx, async () => {
    const selection = await stage('backend', () => selectBackend(backend));
    const emails = await stage('ingest', () => ingest({ groups: params.groups }));
    const { train, test } = await stage('split', () => splitEmails({ emails, test_ratio: params.test_ratio, seed: params.seed }));
    const vocabulary = await stage('fit_vocabulary', () => fitVocabulary({ emails: train, options: params.features }));
    const trainFeatures = await stage('featurize_train', () => featurize({ emails: train, vocabulary }));
    const testFeatures = await stage('featurize_test', () => featurize({ emails: test, vocabulary }));
    const classifier = await stage('train', () => trainClassifier({ features: trainFeatures, emails: train, options: params.train, seed: params.seed }));
    const predictions = await stage('predict', () => predict({ classifier, features: testFeatures }));
    const { metrics, report } = await stage('evaluate', () => evaluate({ predictions, emails: test }));
    // Serving: one request at a time, as the scoring server will; each must score exactly as in the batch above.
    const featurizeMs: number[] = [];
    const requestMs: number[] = [];
    let differing = 0;
    for (let i = 0; i < test.length; i++) {
      const t0 = performance.now();
      const features = featurize({ emails: [{ text: test[i].text }], vocabulary });
      const t1 = performance.now();
      const [one] = await predict({ classifier, features });
      requestMs.push(performance.now() - t0);
      featurizeMs.push(t1 - t0);
      if (one.spam_probability !== predictions[i].spam_probability || one.label !== predictions[i].label) differing++;
    }
    const pct = (xs: number[], q: number) => Number([...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))].toFixed(3));
    const serving = {
      emails: test.length,
      single_vs_batch_differing: differing,
      featurize_ms: { p50: pct(featurizeMs, 0.5), p99: pct(featurizeMs, 0.99), max: pct(featurizeMs, 1) },
      featurize_and_predict_ms: { p50: pct(requestMs, 0.5), p99: pct(requestMs, 0.99), max: pct(requestMs, 1) },
    };
    console.log(JSON.stringify({ backend: selection.name, details: selection.details, params, train_rows: train.length, test_rows: test.length, vocabulary: vocabulary.tokens.length, weights_sha256: weightsFingerprint(classifier), metrics, confusion_matrix: report.confusion_matrix.matrix, seconds, serving }, null, 1));
  });
}
