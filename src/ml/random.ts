// Seeded randomness for everything a run must be able to repeat: shuffles, splits, weight initialisation, dropout.
// sfc32 (Chris Doty-Humphrey's Small Fast Counting generator) seeded through the cyrb128 string hash.
import { invalidParameter } from './errors.ts';

export type Seed = string | number;

export interface Random {
  /** The seed (with its stream label) this generator was made from, for messages and derived streams. */
  readonly seed: string;
  /** A float in [0, 1) with 32 random bits. */
  next(): number;
  /** An integer in [0, 2^32). */
  uint32(): number;
  /** An integer in [0, n), without modulo bias. */
  int(n: number): number;
  /** An integer seed for TensorFlow.js initialisers and dropout (which take numbers), in [0, 2^31). */
  tfSeed(): number;
}

/** cyrb128: four 32-bit words from a string, well mixed, so that nearby seeds give unrelated streams. */
function cyrb128(text: string): [number, number, number, number] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

/**
 * A generator for `seed`; `stream` names an independent stream from the same seed
 * (`createRandom(42, 'shuffle')` and `createRandom(42, 'dropout')` do not share values).
 */
export function createRandom(seed: Seed, stream?: string): Random {
  const label = stream === undefined ? String(seed) : `${String(seed)}/${stream}`;
  let [a, b, c, d] = cyrb128(label);
  const uint32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  // Discard the first outputs: sfc32 needs a few rounds to mix its state.
  for (let i = 0; i < 15; i++) uint32();
  return {
    seed: label,
    uint32,
    next: () => uint32() / 4294967296,
    int(n: number): number {
      if (!Number.isInteger(n) || n <= 0 || n > 4294967296) throw new RangeError(`int(n) needs an integer n in [1, 2^32], got ${n}`);
      // Rejection sampling: drop the top partial block of 2^32 so every value is equally likely.
      const limit = 4294967296 - (4294967296 % n);
      let v = uint32();
      while (v >= limit) v = uint32();
      return v % n;
    },
    tfSeed: () => uint32() >>> 1,
  };
}

/** Shuffles `items` in place (Fisher-Yates) and returns it. */
export function shuffle<T>(items: T[], rng: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = items[i];
    items[i] = items[j];
    items[j] = t;
  }
  return items;
}

/** A random permutation of 0..n-1. */
export function permutation(n: number, rng: Random): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

export interface SplitIndices {
  /** Row numbers of the first part, ascending. */
  train: number[];
  /** Row numbers of the held-out part, ascending. */
  test: number[];
}

/**
 * Splits rows 0..n-1 so that each stratum (class) keeps its share in both parts: of a stratum of size m,
 * round(m * testRatio) rows are held out, chosen at random. Strata are visited in sorted order of their key
 * and each part lists its rows in ascending order, so the result depends only on the keys, the ratio and `rng`.
 */
export function stratifiedSplitIndices(keys: readonly string[], testRatio: number, rng: Random, what = 'test ratio'): SplitIndices {
  if (!(typeof testRatio === 'number' && testRatio > 0 && testRatio < 1)) {
    throw invalidParameter(what, 'a number between 0 and 1 (exclusive)', testRatio);
  }
  const strata = new Map<string, number[]>();
  keys.forEach((k, i) => {
    const list = strata.get(k);
    if (list) list.push(i);
    else strata.set(k, [i]);
  });
  const heldOut = new Uint8Array(keys.length);
  for (const key of [...strata.keys()].sort()) {
    const rows = shuffle(strata.get(key)!, rng);
    const count = Math.round(rows.length * testRatio);
    for (let i = 0; i < count; i++) heldOut[rows[i]] = 1;
  }
  const train: number[] = [];
  const test: number[] = [];
  for (let i = 0; i < keys.length; i++) (heldOut[i] ? test : train).push(i);
  return { train, test };
}

/** Stratified split of `items` by `key` (see stratifiedSplitIndices); each part keeps the input order. */
export function stratifiedSplit<T>(items: readonly T[], key: (item: T) => string, testRatio: number, rng: Random): { train: T[]; test: T[] } {
  const { train, test } = stratifiedSplitIndices(items.map(key), testRatio, rng);
  return { train: train.map((i) => items[i]), test: test.map((i) => items[i]) };
}
