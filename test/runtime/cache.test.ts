// Skipping unchanged nodes through the real content tracker (object store and run store in a temporary project):
// a node is skipped only when its code, parameters and the content of its inputs are what an earlier run saw.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ObjectStoreTracker } from '../../src/runtime/cache.ts';
import { nodeContext } from '../../src/runtime/context.ts';
import { RunRecorder } from '../../src/tracking/recorder.ts';
import { silentReporter } from '../../src/runtime/progress.ts';
import { openTracking, type Tracking } from '../../src/tracking/index.ts';
import type { RunOptions } from '../../src/runtime/runner.ts';
import { catalogEntry, node, pipeline, run, tempDir, type TestPipeline } from './graph.ts';

const opened: Tracking[] = [];
afterEach(() => {
  for (const t of opened.splice(0)) t.close();
});

function project(): string {
  const root = tempDir();
  fs.mkdirSync(path.join(root, 'data'));
  // The tracker hashes a node's code by bundling its module; these nodes are closures, so their module is a stub.
  fs.writeFileSync(path.join(root, 'nodes.ts'), 'export const stub = 1;\n');
  return root;
}

/** One tracked, cached run of `p`, recorded like `kiln run` records it. */
async function trackedRun(p: TestPipeline, over: Partial<RunOptions> = {}) {
  const root = p.ir.settings.root;
  const tracking = openTracking(path.join(root, '.kiln'));
  opened.push(tracking);
  const recorder = await RunRecorder.start(tracking.runs, { pipeline: 'test', command: ['kiln', 'run'], git: null, versions: { kiln: '0', node: process.version, tfjs: null }, backend: null, params: p.ir.parameters.values });
  const result = await run(p, {
    tracker: new ObjectStoreTracker(root, tracking.runs, tracking.objects),
    useCache: true,
    hooks: [recorder.hooks],
    onMetrics: (n, m, step) => recorder.metrics(n, m, step),
    onFile: (n, name, content) => recorder.file(n, name, content),
    ...over,
  });
  await recorder.finish(result.status);
  return Object.assign(result, { record: await tracking.runs.getRun(recorder.runId) });
}

const statuses = (r: { executions: Array<{ node: string; status: string }> }) => Object.fromEntries(r.executions.map((x) => [x.node, x.status]));
const readJson = (root: string, name: string) => JSON.parse(fs.readFileSync(path.join(root, 'data', `${name}.json`), 'utf8')) as unknown;

describe('skipping unchanged nodes', () => {
  function chain(root: string, calls: string[]) {
    return pipeline(
      [
        node('double', ['x', 'params:k'], ['mid'], (x, k) => (calls.push('double'), (x as number) * (k as number))),
        node('inc', ['mid'], ['out'], (m) => (calls.push('inc'), (m as number) + 1)),
      ],
      [catalogEntry('x'), catalogEntry('out')],
      { root, params: { k: 2 } },
    );
  }

  it('skips every node when nothing changed, restoring outputs; re-runs what a changed input reaches', async () => {
    const root = project();
    fs.writeFileSync(path.join(root, 'data/x.json'), '3');
    const calls: string[] = [];
    expect(statuses(await trackedRun(chain(root, calls)))).toEqual({ double: 'done', inc: 'done' });
    expect(readJson(root, 'out')).toBe(7);

    fs.rmSync(path.join(root, 'data/out.json'));
    calls.length = 0;
    const second = await trackedRun(chain(root, calls));
    expect(statuses(second)).toEqual({ double: 'cached', inc: 'cached' });
    expect(calls).toEqual([]);
    expect(readJson(root, 'out')).toBe(7);

    fs.writeFileSync(path.join(root, 'data/x.json'), '4');
    expect(statuses(await trackedRun(chain(root, calls)))).toEqual({ double: 'done', inc: 'done' });
    expect(readJson(root, 'out')).toBe(9);
  });

  it('says so when a skipped node restores an output that was edited by hand, and not when the file was only missing', async () => {
    const root = project();
    fs.writeFileSync(path.join(root, 'data/x.json'), '3');
    await trackedRun(chain(root, []));
    const logged: string[] = [];
    const reporter = { ...silentReporter, nodeLog: (node: string, message: string) => logged.push(`${node}: ${message}`) };
    fs.writeFileSync(path.join(root, 'data/out.json'), '100');
    const edited = await trackedRun(chain(root, []), { reporter });
    expect(statuses(edited)).toEqual({ double: 'cached', inc: 'cached' });
    expect(readJson(root, 'out')).toBe(7);
    expect(logged).toEqual([`inc: restored data/out.json: it differed from what node 'inc' produced (hand edits of a node's output are overwritten; change the node or its inputs)`]);
    expect(edited.executions.find((x) => x.node === 'inc')?.restored).toEqual(['out']);

    logged.length = 0;
    fs.rmSync(path.join(root, 'data/out.json'));
    const missing = await trackedRun(chain(root, []), { reporter });
    expect(readJson(root, 'out')).toBe(7);
    expect(logged).toEqual([]);
    expect(missing.executions.find((x) => x.node === 'inc')?.restored).toBeUndefined();
  });

  it("an output's catalog entry is part of the fingerprint: a new type re-runs the producer and its readers, never restores the old bytes", async () => {
    const root = project();
    fs.writeFileSync(path.join(root, 'data/x.json'), '[1, 2]');
    const rows = (type: 'jsonl' | 'json') =>
      pipeline(
        [node('expand', ['x'], ['rows'], (x) => (x as number[]).map((v) => ({ v }))), node('count', ['rows'], ['n'], (r) => (r as unknown[]).length)],
        [catalogEntry('x'), catalogEntry('rows', type, { path: 'data/rows.out' }), catalogEntry('n')],
        { root },
      );
    expect(statuses(await trackedRun(rows('jsonl')))).toEqual({ expand: 'done', count: 'done' });
    expect(fs.readFileSync(path.join(root, 'data/rows.out'), 'utf8')).toBe('{"v":1}\n{"v":2}\n');
    const changed = await trackedRun(rows('json'));
    expect(changed.status).toBe('FINISHED');
    expect(statuses(changed)).toEqual({ expand: 'done', count: 'done' });
    expect(JSON.parse(fs.readFileSync(path.join(root, 'data/rows.out'), 'utf8'))).toEqual([{ v: 1 }, { v: 2 }]);
    expect(readJson(root, 'n')).toBe(2);
    // An input's declaration is part of its reader's fingerprint too: new options re-run the reader, whose output
    // bytes are the same, so the node after it is skipped.
    const withOptions = pipeline(
      [node('expand', ['x'], ['rows'], (x) => (x as number[]).map((v) => ({ v }))), node('count', ['rows'], ['n'], (r) => (r as unknown[]).length)],
      [catalogEntry('x', 'json', { options: { indent: 4 } }), catalogEntry('rows', 'json', { path: 'data/rows.out' }), catalogEntry('n')],
      { root },
    );
    expect(statuses(await trackedRun(withOptions))).toEqual({ expand: 'done', count: 'cached' });
  });

  it('a changed parameter re-runs the node that reads it and what depends on its output', async () => {
    const root = project();
    fs.writeFileSync(path.join(root, 'data/x.json'), '3');
    await trackedRun(chain(root, []));
    const p = chain(root, []);
    const changed = await trackedRun(p, { params: { k: 10 } });
    expect(statuses(changed)).toEqual({ double: 'done', inc: 'done' });
    expect(readJson(root, 'out')).toBe(31);
  });

  it('a node downstream of an in-memory value that cannot be snapshotted is not skipped on stale outputs', async () => {
    // `fit` returns a closure (v8.serialize refuses functions, like a live model object): its content has no hash.
    const root = project();
    const p = () =>
      pipeline(
        [
          node('fit', ['x'], ['model'], (x) => ({ predict: (v: number) => v * (x as number) })),
          node('predict', ['model'], ['out'], (m) => (m as { predict: (v: number) => number }).predict(10)),
        ],
        [catalogEntry('x'), catalogEntry('out')],
        { root },
      );
    fs.writeFileSync(path.join(root, 'data/x.json'), '1');
    const first = await trackedRun(p());
    // Recording the run must not choke on the input it could not hash (it used to fail the node with KILN4011).
    expect(first.diagnostics).toEqual([]);
    expect(first.executions.find((x) => x.node === 'predict')).toMatchObject({ status: 'done', fingerprint: null, inputs: {} });
    expect(readJson(root, 'out')).toBe(10);

    fs.writeFileSync(path.join(root, 'data/x.json'), '2');
    const second = await trackedRun(p());
    expect(second.diagnostics).toEqual([]);
    expect(statuses(second)).toEqual({ fit: 'done', predict: 'done' });
    expect(readJson(root, 'out')).toBe(20);
  });

  it('two nodes that run at once restore a skipped in-memory input once, and both get it', async () => {
    const root = project();
    fs.writeFileSync(path.join(root, 'data/x.json'), '5');
    fs.writeFileSync(path.join(root, 'readers.ts'), 'export const version = 1;\n');
    const p = () =>
      pipeline(
        [
          node('produce', ['x'], ['m'], (x) => ({ value: x })),
          node('left', ['m'], ['out_left'], (m) => (m as { value: number }).value + 1, 'readers.ts'),
          node('right', ['m'], ['out_right'], (m) => (m as { value: number }).value + 2, 'readers.ts'),
        ],
        [catalogEntry('x'), catalogEntry('out_left'), catalogEntry('out_right')],
        { root },
      );
    expect((await trackedRun(p(), { concurrency: 2 })).status).toBe('FINISHED');
    // The readers' code changes: `produce` is skipped and its in-memory output restored for both readers.
    fs.writeFileSync(path.join(root, 'readers.ts'), 'export const version = 2;\n');
    const second = await trackedRun(p(), { concurrency: 2 });
    expect(second.diagnostics).toEqual([]);
    expect(statuses(second)).toEqual({ produce: 'cached', left: 'done', right: 'done' });
    expect([readJson(root, 'out_left'), readJson(root, 'out_right')]).toEqual([6, 7]);
  });
});

describe('recording what nodes log', () => {
  it('a metric or file the store refuses fails that node with its diagnostic, not the process with an unhandled rejection', async () => {
    const root = project();
    fs.writeFileSync(path.join(root, 'data/x.json'), '1');
    const logs = (log: () => void) =>
      pipeline([node('score', ['x'], ['out'], (x) => (log(), x))], [catalogEntry('x'), catalogEntry('out')], { root });
    const badMetric = await trackedRun(logs(() => nodeContext().logMetrics({ accuracy: 'high' as unknown as number })));
    expect(badMetric.status).toBe('FAILED');
    expect(badMetric.diagnostics.map((d) => d.code)).toEqual(['KILN4011']);
    expect(badMetric.record.status).toBe('FAILED');
    const badFile = await trackedRun(logs(() => nodeContext().logFile('../outside.txt', 'x')));
    expect(badFile.diagnostics.map((d) => d.code)).toEqual(['KILN4011']);
    expect(badFile.record.status).toBe('FAILED');
  });

  it('a skipped node replays what it logged into the new run, looked up once per node (the runner passes what it found)', async () => {
    const root = project();
    fs.writeFileSync(path.join(root, 'data/x.json'), '3');
    const p = () =>
      pipeline(
        [
          node('score', ['x'], ['mid'], (x) => (nodeContext().logMetrics({ accuracy: 0.9 }), x)),
          node('plain', ['mid'], ['out'], (m) => (m as number) + 1),
        ],
        [catalogEntry('x'), catalogEntry('out')],
        { root },
      );
    expect((await trackedRun(p())).status).toBe('FINISHED');
    const tracking = openTracking(path.join(root, '.kiln'));
    opened.push(tracking);
    const lookups: string[] = [];
    const find = tracking.runs.findCachedExecution.bind(tracking.runs);
    tracking.runs.findCachedExecution = (n, fp) => (lookups.push(n), find(n, fp));
    const recorder = await RunRecorder.start(tracking.runs, { pipeline: 'test', command: ['kiln', 'run'], git: null, versions: { kiln: '0', node: process.version, tfjs: null }, backend: null, params: {} });
    const second = await run(p(), { tracker: new ObjectStoreTracker(root, tracking.runs, tracking.objects), useCache: true, hooks: [recorder.hooks] });
    await recorder.finish(second.status);
    expect(statuses(second)).toEqual({ score: 'cached', plain: 'cached' });
    expect(lookups).toEqual(['score', 'plain']);
    expect((await tracking.runs.getRun(recorder.runId)).metrics.accuracy?.value).toBe(0.9);
  });
});
