// jsonl streams: a 200k-line file is written from a generator and read back record by record without either side
// holding the file or the records; the heap stays within a few chunks of the starting point.
import { statSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDataset, JsonlDataset } from '../../src/runtime/datasets/index.ts';
import { readLineBatches } from '../../src/runtime/datasets/jsonl.ts';
import { entry, tempProject, type TestProject } from './helpers.ts';

const LINES = 200_000;
const PAD = 'p'.repeat(220);

let p: TestProject;
let ds: JsonlDataset;
beforeAll(() => {
  p = tempProject();
  ds = createDataset(entry('big', 'jsonl', { path: 'data/big.jsonl', schemaJson: { type: 'object', required: ['i', 'pad'] } }), p.env) as JsonlDataset;
});
afterAll(() => p.cleanup());

// A collectable heap, so that what is measured is what the code keeps, not garbage waiting for the collector.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap kept (after a full collection) above `base`, in MB. */
function retainedMB(base: number): number {
  gc();
  return (process.memoryUsage().heapUsed - base) / 1e6;
}

describe('jsonl streaming', () => {
  it('saves 200k records from a generator and iterates them back, keeping a few MB at most', async () => {
    const base = (gc(), process.memoryUsage().heapUsed);
    let saveKept = 0;
    async function* produce() {
      for (let i = 0; i < LINES; i++) {
        if (i % 40_000 === 20_000) saveKept = Math.max(saveKept, retainedMB(base));
        yield { i, pad: PAD };
      }
    }
    await ds.saveRecords(produce());
    const fileMB = statSync(path.join(p.root, 'data/big.jsonl')).size / 1e6;
    expect(fileMB).toBeGreaterThan(45);

    let count = 0;
    let sum = 0;
    let readKept = 0;
    for await (const r of ds.records()) {
      if (count % 40_000 === 20_000) readKept = Math.max(readKept, retainedMB(base));
      count++;
      sum += (r as { i: number }).i;
    }
    expect(count).toBe(LINES);
    expect(sum).toBe((LINES * (LINES - 1)) / 2);

    // For comparison: what load() keeps, the whole array.
    const all = await ds.load();
    const loadKept = retainedMB(base);
    expect(all.length).toBe(LINES);
    console.log(JSON.stringify({ lines: LINES, fileMB: +fileMB.toFixed(1), saveKeptMB: +saveKept.toFixed(1), streamKeptMB: +readKept.toFixed(1), loadKeptMB: +loadKept.toFixed(1) }));
    // Streaming keeps a couple of 1 MB chunks and a batch of parsed records; the loaded array keeps everything.
    expect(saveKept).toBeLessThan(12);
    expect(readKept).toBeLessThan(12);
    expect(loadKept).toBeGreaterThan(40);
  });

  it('the line reader splits lines across chunk boundaries and multi-byte characters exactly', async () => {
    let n = 0;
    let last = '';
    let wrong = 0;
    for await (const batch of readLineBatches(path.join(p.root, 'data/big.jsonl'))) {
      if (batch.first !== n + 1) wrong++;
      for (const line of batch.lines) {
        if ((JSON.parse(line) as { i: number }).i !== n) wrong++;
        n++;
        last = line;
      }
    }
    expect(wrong).toBe(0);
    expect(n).toBe(LINES);
    expect(last).toBe(`{"i":${LINES - 1},"pad":"${PAD}"}`);
    // Multi-byte characters that straddle a 1 MB read boundary are decoded whole.
    const wide = createDataset(entry('w', 'jsonl', { path: 'w.jsonl' }), p.env);
    const records = Array.from({ length: 3000 }, (_, i) => ({ i, s: 'é€😀'.repeat(97 + (i % 13)) }));
    await wide.save(records);
    expect(await wide.load()).toEqual(records);
  });
});
