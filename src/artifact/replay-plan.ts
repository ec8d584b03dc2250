// How the parity replay groups the records besides one batch of all: one at a time, and a seeded random partition
// into batches of varied sizes (those kiln serve and kiln predict use among them), so that an inference path whose
// output for a row depends on the other rows of its batch cannot pass.
import { createRandom, permutation, shuffle } from '../ml/random.ts';
import { defaultBatcherOptions, predictFileOptions } from '../serve/options.ts';

/** Fixed, so that a parity verdict repeats. */
export const REPLAY_SEED = 'kiln-parity-replay';

/**
 * Most records replayed one at a time; beyond it a seeded sample of this many is. Each alone-call pays the whole
 * per-call cost of the inference path, and this many already catches any dependence on the batch (a row that changes
 * with its neighbours changes for most rows).
 */
export const ALONE_LIMIT = 300;

export interface ReplayGrouping {
  /** For messages: "one at a time", "in a seeded random partition". */
  name: string;
  /** Batches of 0-based record indices, in the order they are predicted. */
  batches: number[][];
}

/** Records replayed alone: all of them, or a seeded sample of ALONE_LIMIT in file order. */
export function aloneGrouping(n: number, limit = ALONE_LIMIT): ReplayGrouping {
  const all = Array.from({ length: n }, (_, i) => i);
  const picked = n <= limit ? all : Array.from(permutation(n, createRandom(REPLAY_SEED, 'alone')).subarray(0, limit)).sort((a, b) => a - b);
  return { name: n <= limit ? 'one at a time' : `one at a time (a seeded sample of ${limit} of ${n})`, batches: picked.map((i) => [i]) };
}

/**
 * Every record once, shuffled, in batches whose sizes mix the micro-batcher's and batch prediction's defaults (when
 * smaller than the whole) with random ones, so no batch looks like the full set training saw.
 */
export function partitionGrouping(n: number): ReplayGrouping {
  const rng = createRandom(REPLAY_SEED, 'partition');
  const sizes = [defaultBatcherOptions.maxBatchSize, predictFileOptions().batchSize].filter((s) => s < n);
  const upper = Math.max(2, Math.min(97, Math.floor(n / 2)));
  for (let total = sizes.reduce((a, b) => a + b, 0); total < n; ) {
    const s = 2 + rng.int(upper - 1);
    sizes.push(s);
    total += s;
  }
  shuffle(sizes, rng);
  const order = permutation(n, rng);
  const batches: number[][] = [];
  let at = 0;
  for (const s of sizes) {
    if (at >= n) break;
    batches.push(Array.from(order.subarray(at, Math.min(n, at + s))));
    at += s;
  }
  return { name: 'in a seeded random partition', batches };
}
