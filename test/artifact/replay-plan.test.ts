// How parity groups the records besides one batch: one at a time (or a seeded sample) and a seeded random partition.
import { describe, expect, it } from 'vitest';
import { aloneGrouping, ALONE_LIMIT, partitionGrouping } from '../../src/artifact/replay-plan.ts';

describe('parity replay groupings', () => {
  it('replays every record alone up to the limit, then a seeded sample in file order', () => {
    expect(aloneGrouping(5).batches).toEqual([[0], [1], [2], [3], [4]]);
    const sample = aloneGrouping(1209);
    expect(sample.batches).toHaveLength(ALONE_LIMIT);
    const picked = sample.batches.map((b) => b[0]);
    expect(picked).toEqual([...picked].sort((a, b) => a - b));
    expect(new Set(picked).size).toBe(ALONE_LIMIT);
    expect(aloneGrouping(1209).batches).toEqual(sample.batches);
    expect(sample.name).toBe(`one at a time (a seeded sample of ${ALONE_LIMIT} of 1209)`);
  });

  it('partitions every record exactly once, shuffled, in batches of mixed sizes including the server and predict defaults', () => {
    for (const n of [1, 2, 10, 86, 1209]) {
      const { batches } = partitionGrouping(n);
      const all = batches.flat();
      expect(all.sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
      if (n >= 10) {
        expect(batches.length).toBeGreaterThan(1);
        expect(new Set(batches.map((b) => b.length)).size).toBeGreaterThan(1);
      }
    }
    const sizes = partitionGrouping(1209).batches.map((b) => b.length);
    expect(sizes).toContain(64);
    expect(sizes).toContain(256);
    expect(partitionGrouping(1209)).toEqual(partitionGrouping(1209));
    // Not the file order: a row meets other neighbours than in training's single batch.
    expect(partitionGrouping(86).batches[0]).not.toEqual(partitionGrouping(86).batches[0].slice().sort((a, b) => a - b));
  });
});
