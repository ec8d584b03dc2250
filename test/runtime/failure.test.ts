// A run that cannot start or that fails part way: the diagnostics it gives, and Kedro's resume suggestion
// (tests/runner/test_sequential_runner.py, test_suggest_resume_scenario) from the runner's own order.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeContext } from '../../src/runtime/context.ts';
import type { Hooks } from '../../src/runtime/hooks.ts';
import { catalogEntry, node, pipeline, run, tempDir, type TestNode } from './graph.ts';

const first = (x: unknown) => x;
const both = (a: unknown, b: unknown) => [a, b];
function explode(): never {
  throw new TypeError('boom in user code');
}

/** The X-shaped pipeline with ds0_*, ds2_* saved as JSON files, the named nodes replaced by one that throws. */
function crossed(failing: string[]) {
  const root = tempDir();
  fs.mkdirSync(path.join(root, 'data'));
  fs.writeFileSync(path.join(root, 'data/ds0_A.json'), '1');
  fs.writeFileSync(path.join(root, 'data/ds0_B.json'), '2');
  const f = (name: string, fn: (...a: unknown[]) => unknown) => (failing.includes(name) ? explode : fn);
  const nodes: TestNode[] = [
    node('node1_A', ['ds0_A'], ['ds1_A'], f('node1_A', first)),
    node('node1_B', ['ds0_B'], ['ds1_B'], f('node1_B', first)),
    node('node2', ['ds1_A', 'ds1_B'], ['ds2_A', 'ds2_B'], f('node2', both)),
    node('node3_A', ['ds2_A'], ['ds3_A'], f('node3_A', first)),
    node('node3_B', ['ds2_B'], ['ds3_B'], f('node3_B', first)),
    node('node4_A', ['ds3_A'], ['ds4_A'], f('node4_A', first)),
    node('node4_B', ['ds3_B'], ['ds4_B'], f('node4_B', first)),
  ];
  return pipeline(nodes, ['ds0_A', 'ds0_B', 'ds2_A', 'ds2_B'].map((d) => catalogEntry(d)), { root });
}

describe('suggested resume after a failure (Kedro test_suggest_resume_scenario)', () => {
  it.each([
    [['node1_A'], 'No nodes ran.'],
    [['node2'], '--from-nodes "node1_A,node1_B"'],
    [['node3_A'], '--from-nodes "node3_A,node3_B"'],
    [['node4_A'], '--from-nodes "node3_A,node3_B"'],
    [['node3_A', 'node4_A'], '--from-nodes "node3_A,node3_B"'],
    [['node2', 'node4_A'], '--from-nodes "node1_A,node1_B"'],
  ])('failing %j → %s', async (failing, expected) => {
    const result = await run(crossed(failing));
    expect(result.status).toBe('FAILED');
    expect(result.diagnostics).toHaveLength(1);
    const d = result.diagnostics[0];
    expect(d.code).toBe('KILN3003');
    expect(d.message).toBe(`node '${failing[0]}' failed: TypeError: boom in user code`);
    expect(d.hint).toContain(expected);
  });

  it('suggests from what actually finished when branches run concurrently', async () => {
    const result = await run(crossed(['node3_A']), { concurrency: 2 });
    expect(result.status).toBe('FAILED');
    const done = result.executions.filter((x) => x.status === 'done').map((x) => x.node);
    // node3_B runs beside the failing node3_A; node4_B may or may not have started before the failure was seen.
    expect(done.filter((n) => n !== 'node4_B').sort()).toEqual(['node1_A', 'node1_B', 'node2', 'node3_B']);
    const expected = done.includes('node4_B') ? '--from-nodes "node3_A"' : '--from-nodes "node3_A,node3_B"';
    expect(result.diagnostics[0].hint).toContain(expected);
  });

  it("shows the user's stack frames and none of kiln's", async () => {
    const result = await run(crossed(['node2']));
    const detail = result.diagnostics[0].detail ?? '';
    expect(detail).toMatch(/^at explode \(.*test\/runtime\/failure\.test\.ts:\d+:\d+\)/);
    expect(detail).not.toMatch(/src\/runtime\//);
    expect(detail).not.toMatch(/node:/);
    // The failed node is recorded as such, and what finished before it as done.
    expect(result.executions.map((x) => [x.node, x.status])).toEqual([
      ['node1_A', 'done'],
      ['node1_B', 'done'],
      ['node2', 'failed'],
    ]);
  });

  it('a non-Error thrown value is still reported with the node name', async () => {
    const p = pipeline([node('throws_string', [], ['x'], () => Promise.reject('plain string'))]);
    const result = await run(p);
    expect(result.diagnostics[0]).toMatchObject({ code: 'KILN3003', message: "node 'throws_string' failed: plain string" });
    expect(result.diagnostics[0].hint).toContain('No nodes ran.');
  });
});

describe('problems found before anything runs', () => {
  it('KILN3001: a pipeline input that is not in the catalog, with a suggestion', async () => {
    const p = pipeline([node('reader', ['raw_emials'], ['out'])], [catalogEntry('raw_emails')]);
    const error = await run(p).then(
      () => null,
      (e: unknown) => e as { diagnostics: Array<{ code: string; message: string; hint?: string }> },
    );
    expect(error?.diagnostics).toHaveLength(1);
    expect(error!.diagnostics[0].code).toBe('KILN3001');
    expect(error!.diagnostics[0].message).toBe("pipeline input 'raw_emials' is not found in the catalog");
    expect(error!.diagnostics[0].hint).toContain("Node 'reader' reads it");
    expect(error!.diagnostics[0].hint).toContain("Did you mean 'raw_emails'?");
  });

  it('KILN3002: a catalog input with nothing saved yet names the node that produces it', async () => {
    const root = tempDir();
    const producer = node('make', [], ['table']);
    const reader = node('use', ['table'], ['out']);
    const whole = pipeline([producer, reader], [catalogEntry('table')], { root });
    const part = { ...whole, nodes: [reader.ir] };
    const error = (await run(part).catch((e: unknown) => e)) as { diagnostics: Array<{ code: string; message: string; hint?: string }> };
    expect(error.diagnostics.map((d) => d.code)).toEqual(['KILN3002']);
    expect(error.diagnostics[0].message).toContain("pipeline input 'table' has nothing to load yet (json at data/table.json)");
    expect(error.diagnostics[0].hint).toContain("produced by node 'make'");
  });

  it('reports every missing input at once, and runs nothing', async () => {
    let ran = false;
    const p = pipeline([node('a', ['x'], ['y'], () => (ran = true)), node('b', ['z', 'y'], ['w'])]);
    const error = (await run(p).catch((e: unknown) => e)) as { diagnostics: Array<{ code: string }> };
    expect(error.diagnostics.map((d) => d.code)).toEqual(['KILN3001', 'KILN3001']);
    expect(ran).toBe(false);
  });

  it.each([
    ['a node missing from the compiled module', (m: Record<string, unknown>) => delete m.b, "node 'b' is missing"],
    ['a node with other outputs', (m: Record<string, { outputs: string[] }>) => (m.b = { ...m.b, outputs: ['other'] }), "node 'b' has other inputs or outputs"],
  ])('KILN3012: %s', async (_what, change, problem) => {
    const p = pipeline([node('a', [], ['y'], () => 1), node('b', ['y'], ['z'])]);
    const nodes = { ...p.module.nodes };
    change(nodes as never);
    const error = (await run({ ...p, module: { ...p.module, nodes } }).catch((e: unknown) => e)) as { diagnostics: Array<{ code: string; message: string }> };
    expect(error.diagnostics[0]).toMatchObject({ code: 'KILN3012', message: `the compiled module of pipeline 'test' does not match its declarations: ${problem}` });
  });
});

describe('failures while running', () => {
  it('KILN3004: a node that returns undefined for an output; the run stops there', async () => {
    let after = false;
    const p = pipeline([node('pair', [], ['left', 'right'], () => [1, undefined]), node('next', ['left'], ['z'], () => (after = true))]);
    const result = await run(p);
    expect(result.status).toBe('FAILED');
    expect(result.diagnostics.map((d) => d.code)).toEqual(['KILN3004']);
    expect(result.diagnostics[0].message).toBe("node 'pair' returned no value for output 'right'");
    expect(result.diagnostics[0].hint).toContain('No nodes ran.');
    expect(after).toBe(false);
  });

  it('null is a value: a node may return null for an output', async () => {
    const p = pipeline([node('nothing', [], ['x'], () => null), node('next', ['x'], ['y'], (x) => x === null)]);
    const result = await run(p);
    expect(result.status).toBe('FINISHED');
  });

  it('calls onNodeError with the node and its error, then reports the failure', async () => {
    const seen: Array<[string, string]> = [];
    const hooks: Hooks = { onNodeError: (e) => void seen.push([e.node, (e.error as Error).message]) };
    const result = await run(crossed(['node2']), { hooks: [hooks] });
    expect(seen).toEqual([['node2', 'boom in user code']]);
    expect(result.diagnostics[0].code).toBe('KILN3003');
  });

  it('an onNodeError hook that throws does not hide which node failed', async () => {
    const hooks: Hooks = {
      onNodeError: () => {
        throw new Error('hook broke');
      },
    };
    const result = await run(crossed(['node2']), { hooks: [hooks] });
    expect(result.status).toBe('FAILED');
    const messages = result.diagnostics.map((d) => d.message).join('\n');
    expect(messages).toContain("node 'node2' failed: TypeError: boom in user code");
    expect(messages).toContain('hook broke');
    expect(messages).not.toContain('undefined');
  });

  it('an afterNodeRun hook that throws fails that node: recorded once, and counted as not run in the hint', async () => {
    const hooks: Hooks = {
      afterNodeRun: (e) => {
        if (e.node === 'node2') throw new Error('after hook broke');
      },
    };
    const result = await run(crossed([]), { hooks: [hooks] });
    expect(result.status).toBe('FAILED');
    expect(result.executions.filter((x) => x.node === 'node2')).toEqual([expect.objectContaining({ status: 'failed', error: 'after hook broke' })]);
    expect(result.diagnostics[0].message).toBe("node 'node2' failed: after hook broke");
    expect(result.diagnostics[0].hint).toContain('There are 5 nodes that did not run.');
    expect(result.diagnostics[0].hint).toContain('--from-nodes "node1_A,node1_B"');
  });
});

describe('interruption', () => {
  /** a → b → c where `a` aborts the run while it runs and waits until its context's signal says so. */
  function interrupted(reason: string | undefined) {
    const controller = new AbortController();
    const started: string[] = [];
    let sawAbort = false;
    const p = pipeline([
      node('a', [], ['x'], async () => {
        started.push('a');
        controller.abort(reason);
        sawAbort = nodeContext().signal.aborted;
        return 1;
      }),
      node('b', ['x'], ['y'], (x) => (started.push('b'), x)),
      node('c', ['y'], ['z'], (y) => (started.push('c'), y)),
    ]);
    return { p, controller, started, sawAbort: () => sawAbort };
  }

  it.each([1, 2])('the running node finishes and sees the signal; nothing else starts; KILLED with KILN3010 (concurrency %i)', async (concurrency) => {
    const t = interrupted('SIGTERM');
    const result = await run(t.p, { signal: t.controller.signal, concurrency });
    expect(t.started).toEqual(['a']);
    expect(t.sawAbort()).toBe(true);
    expect(result.status).toBe('KILLED');
    expect(result.diagnostics).toHaveLength(1);
    expect(result.diagnostics[0]).toMatchObject({ code: 'KILN3010', message: 'run interrupted (SIGTERM) while the pipeline ran' });
    expect(result.diagnostics[0].hint).toContain('There are 2 nodes that did not run.');
    expect(result.diagnostics[0].hint).toContain('--from-nodes "a"');
  });

  it('an abort without a signal name is reported as SIGINT', async () => {
    const t = interrupted(undefined);
    const result = await run(t.p, { signal: t.controller.signal });
    expect(result.diagnostics[0].message).toBe('run interrupted (SIGINT) while the pipeline ran');
  });
});
