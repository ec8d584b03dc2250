// Seeded randomness: the generator is the published cyrb128 + sfc32 pair, streams are independent, and the
// stratified split keeps class shares, is repeatable and keeps input order.
import { describe, expect, it } from 'vitest';
import { createRandom, permutation, shuffle, stratifiedSplit, stratifiedSplitIndices } from '../../src/ml/random.ts';
import { isKilnError } from '../../src/diagnostics/index.ts';

// The reference algorithms as published (bryc, "Seeding the random number generator in JavaScript"), written
// independently of src/ml/random.ts so that the test pins the algorithm, not just our own earlier output.
function referenceCyrb128(str: string): number[] {
  let h1 = 1779033703, h2 = 3144134277, h3 = 1013904242, h4 = 2773480762;
  for (let i = 0, k; i < str.length; i++) {
    k = str.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  (h1 ^= h2 ^ h3 ^ h4), (h2 ^= h1), (h3 ^= h1), (h4 ^= h1);
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}
function referenceSfc32(a: number, b: number, c: number, d: number): () => number {
  return function () {
    a |= 0; b |= 0; c |= 0; d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

describe('createRandom', () => {
  it('is cyrb128-seeded sfc32 with the first 15 outputs discarded', () => {
    const [a, b, c, d] = referenceCyrb128('42');
    const ref = referenceSfc32(a, b, c, d);
    for (let i = 0; i < 15; i++) ref();
    const rng = createRandom(42);
    for (let i = 0; i < 1000; i++) expect(rng.next()).toBe(ref());
  });

  it('repeats for the same seed, and differs across seeds and streams', () => {
    const draw = (seed: string | number, stream?: string) => {
      const r = createRandom(seed, stream);
      return Array.from({ length: 8 }, () => r.uint32());
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).toEqual(draw('7'));
    expect(draw(7)).not.toEqual(draw(8));
    expect(draw(7, 'shuffle')).not.toEqual(draw(7, 'dropout'));
    expect(draw(7, 'shuffle')).toEqual(draw(7, 'shuffle'));
  });

  it('draws integers in range without bias and tf seeds below 2^31', () => {
    const rng = createRandom('uniform');
    const counts = new Array<number>(6).fill(0);
    for (let i = 0; i < 60_000; i++) counts[rng.int(6)]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(400); // ~4 standard deviations
    for (let i = 0; i < 1000; i++) {
      const s = rng.tfSeed();
      expect(Number.isInteger(s) && s >= 0 && s < 2 ** 31).toBe(true);
    }
    expect(() => rng.int(0)).toThrow(RangeError);
  });
});

describe('shuffle and permutation', () => {
  it('permute every element exactly once, repeatably', () => {
    const p = permutation(1000, createRandom(1));
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(p).toEqual(permutation(1000, createRandom(1)));
    expect(p).not.toEqual(permutation(1000, createRandom(2)));
    const items = Array.from({ length: 50 }, (_, i) => `x${i}`);
    const shuffled = shuffle([...items], createRandom(3));
    expect(shuffled).not.toEqual(items);
    expect([...shuffled].sort()).toEqual([...items].sort());
  });
});

describe('stratifiedSplit', () => {
  const items = Array.from({ length: 1000 }, (_, i) => ({ id: i, label: i % 10 < 3 ? 'spam' : 'ham' })); // 300 spam, 700 ham

  it('holds out the ratio of every class, keeps input order, and covers every item once', () => {
    const { train, test } = stratifiedSplit(items, (x) => x.label, 0.2, createRandom(5));
    expect(test.filter((x) => x.label === 'spam')).toHaveLength(60);
    expect(test.filter((x) => x.label === 'ham')).toHaveLength(140);
    expect(train).toHaveLength(800);
    const ids = (xs: typeof items) => xs.map((x) => x.id);
    expect(ids(train)).toEqual([...ids(train)].sort((a, b) => a - b));
    expect(ids(test)).toEqual([...ids(test)].sort((a, b) => a - b));
    expect(new Set([...ids(train), ...ids(test)]).size).toBe(1000);
  });

  it('is deterministic for a seed and changes with it', () => {
    const a = stratifiedSplit(items, (x) => x.label, 0.25, createRandom(9));
    const b = stratifiedSplit(items, (x) => x.label, 0.25, createRandom(9));
    const c = stratifiedSplit(items, (x) => x.label, 0.25, createRandom(10));
    expect(a).toEqual(b);
    expect(a.test.map((x) => x.id)).not.toEqual(c.test.map((x) => x.id));
  });

  it.each([0, 1, -0.1, 1.5, Number.NaN])('rejects the ratio %s with KILN5003', (ratio) => {
    try {
      stratifiedSplitIndices(['a', 'b'], ratio, createRandom(1));
      throw new Error('expected a KilnError');
    } catch (e) {
      expect(isKilnError(e) && e.diagnostics[0].code).toBe('KILN5003');
      expect((e as Error).message).toContain('test ratio must be a number between 0 and 1 (exclusive)');
    }
  });
});
