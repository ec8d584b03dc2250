// "Did you mean": edit distance with swaps, bounded by the length of the name, closest names only.
import { describe, expect, it } from 'vitest';
import { didYouMean, didYouMeanOneOf, editDistance, suggest } from '../../src/diagnostics/didyoumean.ts';

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
