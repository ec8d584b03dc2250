// Quality of predictions against the true labels, spam being the positive class: accuracy, precision,
// recall, F1, ROC AUC (from the probabilities) and the confusion matrix.
import type { Label, Prediction } from './types.ts';

export interface ClassScores {
  precision: number;
  recall: number;
  f1: number;
  /** Emails of this class. */
  support: number;
}

export interface EvaluationReport {
  count: number;
  /** Rows are the true labels, columns the predicted ones, both in the order of `labels`. */
  confusion_matrix: { labels: ['ham', 'spam']; matrix: [[number, number], [number, number]] };
  per_class: Record<Label, ClassScores>;
}

export interface Evaluation {
  /** accuracy, precision, recall, f1, roc_auc (when both classes occur), true/false positives/negatives. */
  metrics: Record<string, number>;
  report: EvaluationReport;
}

const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);
const f1 = (p: number, r: number) => (p + r === 0 ? 0 : (2 * p * r) / (p + r));

/** Area under the ROC curve: the probability that a random spam scores above a random ham (ties count half). */
export function rocAuc(scores: ArrayLike<number>, positive: ArrayLike<boolean>): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++;
    const rank = (i + j) / 2 + 1; // tied scores share their mean rank
    for (let k = i; k <= j; k++) {
      if (positive[order[k]]) {
        positives++;
        rankSum += rank;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export function evaluatePredictions(predictions: readonly Prediction[], truth: readonly Label[]): Evaluation {
  let tp = 0, fp = 0, tn = 0, fn = 0;
  predictions.forEach((p, i) => {
    const spam = truth[i] === 'spam';
    if (p.label === 'spam') spam ? tp++ : fp++;
    else spam ? fn++ : tn++;
  });
  const count = predictions.length;
  const spam: ClassScores = { precision: ratio(tp, tp + fp), recall: ratio(tp, tp + fn), f1: 0, support: tp + fn };
  spam.f1 = f1(spam.precision, spam.recall);
  const ham: ClassScores = { precision: ratio(tn, tn + fn), recall: ratio(tn, tn + fp), f1: 0, support: tn + fp };
  ham.f1 = f1(ham.precision, ham.recall);
  const metrics: Record<string, number> = {
    accuracy: ratio(tp + tn, count),
    precision: spam.precision,
    recall: spam.recall,
    f1: spam.f1,
    true_positives: tp,
    false_positives: fp,
    true_negatives: tn,
    false_negatives: fn,
  };
  const auc = rocAuc(predictions.map((p) => p.spam_probability), truth.map((t) => t === 'spam'));
  if (!Number.isNaN(auc)) metrics.roc_auc = auc;
  return {
    metrics,
    report: {
      count,
      confusion_matrix: { labels: ['ham', 'spam'], matrix: [[tn, fp], [fn, tp]] },
      per_class: { ham, spam },
    },
  };
}
