// Bag-of-words features: a vocabulary fitted on the training emails (document frequencies, idf) and
// featurize, which turns raw emails into sparse TF-IDF rows (L2-normalised) in CSR form, plain JSON data.
import { invalidParameter, unknownValue } from 'kiln-ml/ml';
import { parseEmail } from './email.ts';
import { TOKENIZER_VERSION, emailTokens } from './tokenize.ts';

export type Weighting = 'tfidf' | 'binary';

export interface VocabularyOptions {
  /** Most tokens kept, the most frequent (by document frequency) first. */
  vocabulary_size: number;
  /** Fewest training documents a token must occur in. */
  min_df: number;
  /** Largest fraction of training documents a token may occur in (default 1: no limit). */
  max_df?: number;
  /** `tfidf` (default): term frequency x idf; `binary`: 1 for each token present. Rows are L2-normalised either way. */
  weighting?: Weighting;
  /** Use 1 + ln(count) instead of the count as term frequency (default true). */
  sublinear_tf?: boolean;
}

export interface Vocabulary {
  /** The tokenizer the tokens come from (TOKENIZER_VERSION); featurize refuses a vocabulary of another one. */
  tokenizer: string;
  weighting: Weighting;
  sublinear_tf: boolean;
  /** Number of training documents the frequencies were counted on. */
  document_count: number;
  /** Column j of the features is tokens[j]. */
  tokens: string[];
  /** Training documents containing each token. */
  document_frequency: number[];
  /** Smoothed inverse document frequency: ln((1 + n) / (1 + df)) + 1. */
  idf: number[];
}

/** Sparse rows in CSR form: the entries of row r are columns indices[k] with values values[k], k in [indptr[r], indptr[r + 1]). */
export interface FeatureMatrix {
  rows: number;
  columns: number;
  indptr: number[];
  indices: number[];
  values: number[];
}

export function parseOptions(o: VocabularyOptions): Required<VocabularyOptions> {
  const full: Required<VocabularyOptions> = { max_df: 1, weighting: 'tfidf', sublinear_tf: true, ...o };
  if (!Number.isInteger(full.vocabulary_size) || full.vocabulary_size < 1) throw invalidParameter('features.vocabulary_size', 'a whole number of at least 1', full.vocabulary_size);
  if (!Number.isInteger(full.min_df) || full.min_df < 1) throw invalidParameter('features.min_df', 'a whole number of at least 1', full.min_df);
  if (!(typeof full.max_df === 'number' && full.max_df > 0 && full.max_df <= 1)) throw invalidParameter('features.max_df', 'a fraction in (0, 1]', full.max_df);
  if (full.weighting !== 'tfidf' && full.weighting !== 'binary') throw unknownValue('features.weighting', String(full.weighting), ['tfidf', 'binary']);
  return full;
}

/** Tokens of a raw email (headers and MIME body), with repeats. */
export function tokensOf(text: string): string[] {
  return emailTokens(parseEmail(text));
}

export function fitVocabularyFromTexts(texts: Iterable<string>, options: VocabularyOptions): Vocabulary {
  const o = parseOptions(options);
  const df = new Map<string, number>();
  let n = 0;
  for (const text of texts) {
    n++;
    for (const token of new Set(tokensOf(text))) df.set(token, (df.get(token) ?? 0) + 1);
  }
  const maxDocs = o.max_df * n;
  const kept = [...df].filter(([, d]) => d >= o.min_df && d <= maxDocs);
  // Most frequent first; ties in token order, so that the vocabulary depends only on the data.
  kept.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const chosen = kept.slice(0, o.vocabulary_size);
  return {
    tokenizer: TOKENIZER_VERSION,
    weighting: o.weighting,
    sublinear_tf: o.sublinear_tf,
    document_count: n,
    tokens: chosen.map(([t]) => t),
    document_frequency: chosen.map(([, d]) => d),
    idf: chosen.map(([, d]) => Math.log((1 + n) / (1 + d)) + 1),
  };
}

/** Token → column, built once per vocabulary object (a server featurizes many requests with one vocabulary). */
const columnIndex = new WeakMap<Vocabulary, Map<string, number>>();

function indexOf(vocabulary: Vocabulary): Map<string, number> {
  let index = columnIndex.get(vocabulary);
  if (!index) {
    if (vocabulary.tokenizer !== TOKENIZER_VERSION) throw invalidParameter('vocabulary.tokenizer', `'${TOKENIZER_VERSION}' (fit the vocabulary again)`, vocabulary.tokenizer);
    if (vocabulary.idf.length !== vocabulary.tokens.length) throw invalidParameter('vocabulary', `${vocabulary.tokens.length} idf values, one per token`, vocabulary.idf.length);
    index = new Map(vocabulary.tokens.map((t, i) => [t, i]));
    columnIndex.set(vocabulary, index);
  }
  return index;
}

/** Sparse feature rows for raw email texts, in order. */
export function featurizeTexts(texts: readonly string[], vocabulary: Vocabulary): FeatureMatrix {
  const index = indexOf(vocabulary);
  const { idf, weighting, sublinear_tf: sublinear } = vocabulary;
  const columns = vocabulary.tokens.length;
  const counts = new Float64Array(columns);
  const indptr: number[] = [0];
  const indices: number[] = [];
  const values: number[] = [];
  for (const text of texts) {
    const touched: number[] = [];
    for (const token of tokensOf(text)) {
      const c = index.get(token);
      if (c === undefined) continue;
      if (counts[c] === 0) touched.push(c);
      counts[c]++;
    }
    // Ascending columns: a canonical row, whatever order the tokens came in.
    touched.sort((a, b) => a - b);
    let norm = 0;
    for (const c of touched) {
      const tf = weighting === 'binary' ? 1 : sublinear ? 1 + Math.log(counts[c]) : counts[c];
      const w = weighting === 'binary' ? 1 : tf * idf[c];
      counts[c] = w;
      norm += w * w;
    }
    norm = Math.sqrt(norm);
    for (const c of touched) {
      indices.push(c);
      values.push(counts[c] / norm);
      counts[c] = 0;
    }
    indptr.push(indices.length);
  }
  return { rows: texts.length, columns, indptr, indices, values };
}
