// Node functions of the spam pipeline (pipelines/spam/pipeline.yaml). Each takes one object whose keys are
// the node's inputs and returns its output, or an object keyed by its outputs.
import type * as tf from '@tensorflow/tfjs';
import { nodeContext } from 'kiln-ml';
import { createRandom, rowCountMismatch, stratifiedSplit } from 'kiln-ml/ml';
import { readCorpus } from './corpus.ts';
import { evaluatePredictions, type Evaluation } from './evaluate.ts';
import { featurizeTexts, fitVocabularyFromTexts, type FeatureMatrix, type Vocabulary, type VocabularyOptions } from './features.ts';
import { predictProbabilities, toPredictions, train, type ClassifierOptions } from './model.ts';
import type { Email, Prediction } from './types.ts';

export type { Email, Label, Prediction } from './types.ts';
export type { FeatureMatrix, Vocabulary, VocabularyOptions, Weighting } from './features.ts';
export type { ClassifierOptions } from './model.ts';
export type { ClassScores, Evaluation, EvaluationReport } from './evaluate.ts';

/** Reads the SpamAssassin corpus groups (easy-ham-1, easy-ham-2, hard-ham-1, spam-1, spam-2). */
export async function ingest({ groups }: { groups: string[] }): Promise<Email[]> {
  const emails = await readCorpus(groups);
  nodeContext().log(`read ${emails.length} emails (${emails.filter((e) => e.label === 'spam').length} spam)`);
  return emails;
}

/** Holds out `test_ratio` of each label at random (seeded); both parts keep the input order. */
export function splitEmails({ emails, test_ratio, seed }: { emails: Email[]; test_ratio: number; seed: number }): { train: Email[]; test: Email[] } {
  return stratifiedSplit(emails, (e) => e.label, test_ratio, createRandom(seed, 'split'));
}

/** Fits the vocabulary (document frequencies, idf) on the given emails, the training split. */
export function fitVocabulary({ emails, options }: { emails: Array<Pick<Email, 'text'>>; options: VocabularyOptions }): Vocabulary {
  return fitVocabularyFromTexts(emails.map((e) => e.text), options);
}

/** Sparse TF-IDF rows of raw emails (headers and MIME body parsed); at inference, one request's `{ text }`. */
export function featurize({ emails, vocabulary }: { emails: Array<Pick<Email, 'text'>>; vocabulary: Vocabulary }): FeatureMatrix {
  return featurizeTexts(emails.map((e) => e.text), vocabulary);
}

/** Trains the classifier on featurized emails and their labels. */
export async function trainClassifier({ features, emails, options, seed }: { features: FeatureMatrix; emails: Array<Pick<Email, 'label'>>; options: ClassifierOptions; seed: number }): Promise<tf.LayersModel> {
  const { model } = await train(features, emails.map((e) => e.label), options, seed);
  return model;
}

/** Spam probability and label for each row, in order; a row's result does not depend on the other rows. */
export async function predict({ classifier, features }: { classifier: tf.LayersModel; features: FeatureMatrix }): Promise<Prediction[]> {
  return toPredictions(await predictProbabilities(classifier, features));
}

/** Test metrics (spam is the positive class) and a report with the confusion matrix. */
export function evaluate({ predictions, emails }: { predictions: Prediction[]; emails: Array<Pick<Email, 'label'>> }): Evaluation {
  if (predictions.length !== emails.length) throw rowCountMismatch('evaluation', 'predictions', predictions.length, 'emails', emails.length);
  return evaluatePredictions(predictions, emails.map((e) => e.label));
}
