// Kedro's release order (tests/runner/test_sequential_runner.py, TestSequentialRunnerRelease): an in-memory dataset is
// released as soon as its last reader has run, and pipeline inputs and outputs are never released.
import { describe, expect, it } from 'vitest';
import { catalogEntry, loggingFactory, node, pipeline, run } from './graph.ts';

const source = () => 'stuff';
const sink = () => undefined;

describe.each([1, 2])('release order (concurrency %i)', (concurrency) => {
  it('does not release the pipeline input or output: in → middle → out', async () => {
    const log: Array<[string, string]> = [];
    const p = pipeline([node('first', ['in'], ['middle']), node('second', ['middle'], ['out'])], [catalogEntry('in', 'memory')]);
    const result = await run(p, { concurrency, datasetFactory: loggingFactory(log, { in: 'stuff', middle: undefined, out: undefined }) });
    expect(result.status).toBe('FINISHED');
    expect(log).toEqual([
      ['load', 'in'],
      ['load', 'middle'],
      ['release', 'middle'],
    ]);
  });

  it('releases at the earliest opportunity: first → second → sink', async () => {
    const log: Array<[string, string]> = [];
    const p = pipeline([node('source', [], ['first'], source), node('identity', ['first'], ['second']), node('sink', ['second'], [], sink)]);
    const result = await run(p, { concurrency, datasetFactory: loggingFactory(log, { first: undefined, second: undefined }) });
    expect(result.status).toBe('FINISHED');
    // "release first" comes before "load second".
    expect(log).toEqual([
      ['load', 'first'],
      ['release', 'first'],
      ['load', 'second'],
      ['release', 'second'],
    ]);
  });

  it('counts multiple loads: released only after the last of several readers', async () => {
    const log: Array<[string, string]> = [];
    const p = pipeline([node('source', [], ['dataset'], source), node('bob', ['dataset'], [], sink), node('fred', ['dataset'], [], sink)]);
    const result = await run(p, { concurrency, datasetFactory: loggingFactory(log, { dataset: undefined }) });
    expect(result.status).toBe('FINISHED');
    expect(log).toEqual([
      ['load', 'dataset'],
      ['load', 'dataset'],
      ['release', 'dataset'],
    ]);
  });
});

describe('release with readers running at the same time', () => {
  it('releases after the last reader, whatever the order they finish in', async () => {
    const log: Array<[string, string]> = [];
    const slow = (ms: number) => () => new Promise((r) => setTimeout(() => r(undefined), ms));
    const p = pipeline([node('source', [], ['d'], source), node('a', ['d'], [], slow(30)), node('b', ['d'], [], slow(1)), node('c', ['d'], [], slow(10))]);
    const result = await run(p, { concurrency: 3, datasetFactory: loggingFactory(log, { d: undefined }) });
    expect(result.status).toBe('FINISHED');
    expect(log).toEqual([
      ['load', 'd'],
      ['load', 'd'],
      ['load', 'd'],
      ['release', 'd'],
    ]);
  });
});
