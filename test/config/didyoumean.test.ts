// "Did you mean": edit distance with swaps, bounded by the length of the name, closest names only.
import { describe, expect, it } from 'vitest';
import { didYouMean, didYouMeanOneOf, editDistance, MAX_SUGGESTED_NAME_LENGTH, suggest } from '../../src/diagnostics/didyoumean.ts';

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['abc', '', 3],
    ['inptus', 'inputs', 1],
    ['kitten', 'sitting', 3],
    ['json', 'jsonl', 1],
    ['ab', 'ba', 1],
  ])('%s → %s = %i', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });
});

describe('suggest', () => {
  it.each<[string, string[], string[]]>([
    ['inptus', ['name', 'run', 'inputs', 'outputs', 'tags', 'namespace', 'description'], ['inputs']],
    ['jsonn', ['memory', 'json', 'jsonl', 'csv'], ['json', 'jsonl']],
    ['node10', ['node1', 'node2', 'node3'], ['node1']],
    ['Z', ['A', 'B', 'C'], []],
    ['z', ['Z', 'y'], ['Z']],
    ['ab', ['ac', 'xy'], ['ac']],
    ['a', ['ab'], ['ab']],
    ['completely', ['different', 'names'], []],
    ['same', ['same'], []],
    ['SEED', ['seed', 'speed'], ['seed']],
  ])('%s among %j → %j', (name, known, want) => {
    expect(suggest(name, known)).toEqual(want);
  });

  it('gives at most three names and stays within three edits', () => {
    expect(suggest('tagx', ['tag1', 'tag2', 'tag3', 'tag4'])).toEqual(['tag1', 'tag2', 'tag3']);
    expect(suggest('abcdefgh', ['abcdwxyz'])).toEqual([]);
    expect(suggest('abcdefgh', ['abcdexyz'])).toEqual(['abcdexyz']);
  });
});

describe('didYouMean', () => {
  it('writes the sentence the messages append', () => {
    expect(didYouMean('inptus', ['inputs'])).toBe(" did you mean 'inputs'?");
    expect(didYouMean('jsonn', ['json', 'jsonl'])).toBe(" did you mean 'json' or 'jsonl'?");
    expect(didYouMean('x', ['abc'])).toBe('');
    expect(didYouMeanOneOf(['a', 'b', 'c'])).toBe(" did you mean 'a', 'b' or 'c'?");
    expect(didYouMeanOneOf([])).toBe('');
  });
});

describe('suggest: bounded cost for any name (scoring request keys come from anyone)', () => {
  const table: Array<[string, string[], string[]]> = [
    ['inptus', ['inputs', 'instances'], ['inputs']],
    ['input', ['inputs', 'instances', 'dataframe_split'], ['inputs']],
    ['node10', ['node1', 'node2', 'node3'], ['node1']],
    ['Z', ['a', 'b'], []],
    ['INPUTS', ['inputs'], ['inputs']],
  ];
  for (const [name, known, want] of table) {
    it(`${name} → ${JSON.stringify(want)}`, () => expect(suggest(name, known)).toEqual(want));
  }

  it('answers at once for a 1 MB name, and suggests nothing for it', () => {
    const t0 = performance.now();
    expect(suggest('x'.repeat(1_000_000), ['inputs', 'instances', 'dataframe_records', 'dataframe_split'])).toEqual([]);
    expect(suggest('inputs' + 'x'.repeat(MAX_SUGGESTED_NAME_LENGTH), ['inputs'])).toEqual([]);
    expect(performance.now() - t0).toBeLessThan(50);
  });

  it('skips known names past the length cap instead of comparing them', () => {
    const long = 'a'.repeat(500_000);
    const t0 = performance.now();
    expect(suggest(long.slice(0, 100), [long, 'b'])).toEqual([]);
    expect(performance.now() - t0).toBeLessThan(50);
  });
});

describe('editDistance with a limit', () => {
  it('agrees with the unbounded distance up to the limit, and says limit + 1 beyond it', () => {
    let seed = 7;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    const word = () => Array.from({ length: rand(9) }, () => 'abc'[rand(3)]).join('');
    for (let k = 0; k < 2_000; k++) {
      const a = word();
      const b = word();
      const full = editDistance(a, b);
      for (const limit of [0, 1, 2, 3]) expect([a, b, limit, editDistance(a, b, limit)]).toEqual([a, b, limit, Math.min(full, limit + 1)]);
    }
  });

  it('costs nothing for names of very different length', () => {
    const t0 = performance.now();
    expect(editDistance('k'.repeat(1_000_000), 'inputs', 3)).toBe(4);
    expect(performance.now() - t0).toBeLessThan(20);
  });
});
