// Vocabulary fitting and featurization, against frequencies and TF-IDF weights worked out by hand.
import { describe, expect, it } from 'vitest';
import { featurizeTexts, fitVocabularyFromTexts, type Vocabulary } from '../../pipelines/spam/features.ts';
import { featurize, fitVocabulary } from '../../pipelines/spam/nodes.ts';
import { isKilnError } from '../../src/diagnostics/index.ts';

// Bodies without headers: each is one text/plain part, so every document also has the token ctype:text/plain.
const docs = ['apple banana apple', 'banana cherry', 'banana durian durian durian'];
const ln2 = Math.log(2);

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isKilnError(e)) return `${e.diagnostics[0].code} ${e.diagnostics[0].message}`;
    throw e;
  }
  return 'no error';
}

describe('fitVocabulary', () => {
  it('counts document frequencies, orders by them (ties by token) and computes smoothed idf', () => {
    const v = fitVocabulary({ emails: docs.map((text) => ({ text })), options: { vocabulary_size: 10, min_df: 1 } });
    expect(v.tokens).toEqual(['banana', 'ctype:text/plain', 'apple', 'cherry', 'durian']);
    expect(v.document_frequency).toEqual([3, 3, 1, 1, 1]);
    expect(v.document_count).toBe(3);
    expect(v.idf[0]).toBeCloseTo(1, 12); // ln(4/4) + 1
    expect(v.idf[2]).toBeCloseTo(1 + ln2, 12); // ln(4/2) + 1
    expect(v).toMatchObject({ tokenizer: 'spam-tokens/1', weighting: 'tfidf', sublinear_tf: true });
    expect(JSON.parse(JSON.stringify(v))).toEqual(v); // plain JSON
  });

  it('applies min_df, max_df and the size limit', () => {
    const fit = (o: object) => fitVocabularyFromTexts(docs, { vocabulary_size: 10, min_df: 1, ...o }).tokens;
    expect(fit({ min_df: 2 })).toEqual(['banana', 'ctype:text/plain']);
    expect(fit({ max_df: 0.9 })).toEqual(['apple', 'cherry', 'durian']);
    expect(fit({ vocabulary_size: 3 })).toEqual(['banana', 'ctype:text/plain', 'apple']);
  });

  it.each([
    [{ vocabulary_size: 0, min_df: 1 }, 'KILN5003 features.vocabulary_size must be a whole number of at least 1, but is 0'],
    [{ vocabulary_size: 10, min_df: 0.5 }, 'KILN5003 features.min_df must be a whole number of at least 1, but is 0.5'],
    [{ vocabulary_size: 10, min_df: 1, max_df: 0 }, 'KILN5003 features.max_df must be a fraction in (0, 1], but is 0'],
    [{ vocabulary_size: 10, min_df: 1, weighting: 'tf-idf' }, "KILN5002 unknown features.weighting 'tf-idf'. did you mean 'tfidf'?"],
  ])('rejects %j', (options, want) => {
    expect(codeOf(() => fitVocabularyFromTexts(docs, options as never))).toBe(want);
  });
});

describe('featurize', () => {
  const vocabulary = fitVocabularyFromTexts(docs, { vocabulary_size: 10, min_df: 1 });

  it('gives L2-normalised sublinear TF-IDF rows with ascending columns, in CSR form', () => {
    const m = featurize({ emails: [{ text: docs[0] }, { text: 'zebra' }, { text: docs[2] }], vocabulary });
    expect(m.rows).toBe(3);
    expect(m.columns).toBe(5);
    expect(m.indptr).toEqual([0, 3, 4, 7]);
    // Row 0: banana 1 x 1, ctype 1 x 1, apple (1 + ln 2) x (1 + ln 2).
    const apple = (1 + ln2) ** 2;
    const norm0 = Math.sqrt(2 + apple ** 2);
    expect(m.indices.slice(0, 3)).toEqual([0, 1, 2]);
    expect(m.values[0]).toBeCloseTo(1 / norm0, 12);
    expect(m.values[1]).toBeCloseTo(1 / norm0, 12);
    expect(m.values[2]).toBeCloseTo(apple / norm0, 12);
    // Row 1: only ctype:text/plain is known ('zebra' is not in the vocabulary).
    expect(m.indices.slice(3, 4)).toEqual([1]);
    expect(m.values[3]).toBe(1);
    // Row 2: durian three times: (1 + ln 3) x (1 + ln 2).
    const durian = (1 + Math.log(3)) * (1 + ln2);
    expect(m.indices.slice(4)).toEqual([0, 1, 4]);
    expect(m.values[6]).toBeCloseTo(durian / Math.sqrt(2 + durian ** 2), 12);
    expect(JSON.parse(JSON.stringify(m))).toEqual(m);
  });

  it('uses binary weights when asked, and gives an empty row for an email with no known token', () => {
    const binary = fitVocabularyFromTexts(docs, { vocabulary_size: 10, min_df: 1, max_df: 0.9, weighting: 'binary' });
    const m = featurizeTexts(['apple apple apple cherry', 'zebra'], binary);
    expect(m.indices).toEqual([0, 1]);
    expect(m.values[0]).toBeCloseTo(Math.SQRT1_2, 12);
    expect(m.values[1]).toBeCloseTo(Math.SQRT1_2, 12);
    expect(m.indptr).toEqual([0, 2, 2]);
  });

  it('refuses a vocabulary made by another tokenizer', () => {
    const old: Vocabulary = { ...vocabulary, tokenizer: 'spam-tokens/0' };
    expect(codeOf(() => featurizeTexts(['x'], old))).toBe("KILN5003 vocabulary.tokenizer must be 'spam-tokens/1' (fit the vocabulary again), but is 'spam-tokens/0'");
  });
});
