// `kiln run` in this process on a copy of the fanout fixture: parameter overrides, --load-version, hooks from
// kiln.yaml, node filters, --parallel, and how a failing node is reported. Each test works on its own clone.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runMain, type CliResult } from '../helpers/cli.ts';
import { cloneProject, warmProject } from '../helpers/warm-project.ts';

let template: string;
beforeAll(async () => {
  template = await warmProject('fanout');
});

const kiln = (root: string, ...args: string[]): Promise<CliResult> => runMain(['run', '--project', root, ...args], { cwd: root });
const readJson = (root: string, rel: string) => JSON.parse(fs.readFileSync(path.join(root, rel), 'utf8')) as unknown;

/** node → status, from the summary table a run prints. */
function summary(stderr: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of stderr.matchAll(/^(\w+)\s+(done|cached|failed|not run)\b/gm)) out[m[1]] = m[2];
  return out;
}

interface HookEvent {
  event: string;
  node: string | null;
  dataset: string | null;
  status: string | null;
  cached: boolean | null;
  t: number;
}
function events(root: string): HookEvent[] {
  const file = path.join(root, 'events.jsonl');
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as HookEvent);
}
const describeEvent = (e: HookEvent) => [e.event, e.node ?? e.status, e.dataset].filter((x) => x !== null).join(' ');

function setHooks(root: string, refs: string[]): void {
  const file = path.join(root, 'kiln.yaml');
  const text = fs.readFileSync(file, 'utf8').replace(/hooks:\n(  - .*\n)+/, refs.length ? `hooks:\n${refs.map((r) => `  - ${r}\n`).join('')}` : '');
  fs.writeFileSync(file, text);
}

describe('--params', () => {
  it('overrides keep the type of the value they replace; the run records them typed', async () => {
    const root = cloneProject(template);
    const r = await kiln(root, '--params', 'scale.left=5,scale.right=0.5', '--params', 'fault="none"');
    expect(r.code, r.stderr).toBe(0);
    expect(readJson(root, 'data/left.json')).toEqual([5, 10, 15, 20]);
    expect(readJson(root, 'data/right.json')).toEqual([0.5, 1, 1.5, 2]);
    const id = /run (\w+) finished/.exec(r.stderr)![1];
    const show = await runMain(['runs', 'show', id, '--project', root, '--json'], { cwd: root });
    const params = (JSON.parse(show.stdout) as { params: Record<string, unknown> }).params;
    expect(params).toMatchObject({ 'scale.left': 5, 'scale.right': 0.5, fault: 'none', delay_ms: 0 });
    expect(typeof params['scale.left']).toBe('number');
  });

  it('reports every bad override at once (KILN3005 with a suggestion, KILN3006, KILN3007) and runs nothing', async () => {
    const root = cloneProject(template);
    const r = await kiln(root, '--no-track', '--params', 'scale.left=abc,scale.lefft=3,oops,delay_ms=[1]');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error KILN3006: --params scale.left=abc: not a number");
    expect(r.stderr).toContain('scale.left is a number in parameters.yaml (now 2); give a number.');
    expect(r.stderr).toMatch(/error KILN3005: unknown parameter 'scale.lefft' in --params\.\s*did you mean 'scale.left'\?/i);
    expect(r.stderr).toContain('known keys: delay_ms, scale, scale.left, scale.right, fault');
    expect(r.stderr).toContain("error KILN3007: bad --params argument 'oops'");
    expect(r.stderr).toContain('error KILN3006: --params delay_ms=[1]: not a number');
    expect(r.stderr).toContain('4 errors');
    expect(fs.existsSync(path.join(root, 'data/left.json'))).toBe(false);
  });

  it('a mapping is replaced by JSON of the same kind only (KILN3006)', async () => {
    const root = cloneProject(template);
    const r = await kiln(root, '--no-track', '--params', 'scale=[1,2]');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error KILN3006: --params scale=[1,2]: a list, not a mapping');
  });
});

describe('--load-version', () => {
  it('loads the pinned version of a versioned dataset instead of the latest', async () => {
    const root = cloneProject(template);
    expect((await kiln(root, '--no-track')).code).toBe(0);
    const [v1] = fs.readdirSync(path.join(root, 'data/combined.json'));
    await new Promise((r) => setTimeout(r, 5)); // versions are timestamps
    expect((await kiln(root, '--no-track', '--params', 'scale.left=100')).code).toBe(0);
    expect(fs.readdirSync(path.join(root, 'data/combined.json'))).toHaveLength(2);
    expect(readJson(root, 'data/report.json')).toEqual({ total: 1030, count: 4 });

    const pinned = await kiln(root, '--no-track', '--nodes', 'summarize', '--load-version', `combined:${v1}`);
    expect(pinned.code, pinned.stderr).toBe(0);
    // (1+2+3+4) * (2 + 3): what the first run combined.
    expect(readJson(root, 'data/report.json')).toEqual({ total: 50, count: 4 });
  });

  it.each([
    ['combined', 'expected <dataset>:<version>'],
    ['combnied:2024', "no catalog dataset 'combnied'"],
    ['left:2024', "dataset 'left' is not versioned"],
  ])('KILN3008 for %s', async (arg, problem) => {
    const root = cloneProject(template);
    const r = await kiln(root, '--no-track', '--load-version', arg);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error KILN3008: bad --load-version argument '${arg}': ${problem}`);
    if (arg.startsWith('combnied')) expect(r.stderr).toMatch(/did you mean 'combined'\?/i);
  });

  it('a version that was never saved is KILN3002 naming that version', async () => {
    const root = cloneProject(template);
    expect((await kiln(root, '--no-track')).code).toBe(0);
    const r = await kiln(root, '--no-track', '--nodes', 'summarize', '--load-version', 'combined:2000-01-01T00.00.00.000Z');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error KILN3002: pipeline input 'combined' has nothing to load yet (json at data/combined.json, version 2000-01-01T00.00.00.000Z)");
    expect(r.stderr).toContain("No version '2000-01-01T00.00.00.000Z' of 'combined' was saved");
  });
});

describe('hooks from kiln.yaml', () => {
  it('are called in order with the right events, and a skipped node gets only afterNodeRun (cached)', async () => {
    const root = cloneProject(template);
    const r = await kiln(root);
    expect(r.code, r.stderr).toBe(0);
    const node = (n: string, inputs: string[], output: string) => [
      ...inputs.flatMap((i) => [`beforeDatasetLoaded ${n} ${i}`, `afterDatasetLoaded ${n} ${i}`]),
      `beforeNodeRun ${n}`,
      `beforeDatasetSaved ${n} ${output}`,
      `afterDatasetSaved ${n} ${output}`,
      `afterNodeRun ${n}`,
    ];
    expect(events(root).map(describeEvent)).toEqual([
      'beforePipelineRun',
      ...node('left_branch', ['numbers'], 'left'),
      ...node('right_branch', ['numbers'], 'right'),
      ...node('combine', ['left', 'right'], 'combined'),
      ...node('summarize', ['combined'], 'report'),
      'afterPipelineRun FINISHED',
    ]);
    expect(events(root).filter((e) => e.event === 'afterNodeRun').every((e) => e.cached === false)).toBe(true);

    fs.rmSync(path.join(root, 'events.jsonl'));
    const again = await kiln(root);
    expect(again.code, again.stderr).toBe(0);
    expect(events(root).map((e) => [describeEvent(e), e.cached])).toEqual([
      ['beforePipelineRun', null],
      ['afterNodeRun left_branch', true],
      ['afterNodeRun right_branch', true],
      ['afterNodeRun combine', true],
      ['afterNodeRun summarize', true],
      ['afterPipelineRun FINISHED', null],
    ]);
  });

  it('a failing node gets onNodeError, and afterPipelineRun says FAILED', async () => {
    const root = cloneProject(template);
    const r = await kiln(root, '--no-track', '--params', 'fault=right_branch:throw');
    expect(r.code).toBe(1);
    expect(events(root).map(describeEvent).slice(-3)).toEqual(['beforeNodeRun right_branch', 'onNodeError right_branch', 'afterPipelineRun FAILED']);
  });

  it.each([
    ['./hooks.ts#nothere', "the module has no export 'nothere'"],
    ['./hooks.ts#notHooks', 'it has none of the hook methods'],
  ])('KILN3009 for %s, before any node runs', async (ref, problem) => {
    const root = cloneProject(template);
    setHooks(root, [ref]);
    const r = await kiln(root, '--no-track');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error KILN3009: hook '${ref}' cannot be used: ${problem}`);
    expect(r.stderr).toMatch(/kiln\.yaml:\d+:\d+/);
    expect(r.stderr).not.toContain('running');
  });

  it('a hook module that does not exist is refused by validation (KILN1011 at its kiln.yaml line), before any node runs', async () => {
    const root = cloneProject(template);
    setHooks(root, ['./gone.ts#events']);
    const r = await kiln(root, '--no-track');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/kiln\.yaml:\d+:\d+ error KILN1011: hook module not found: gone\.ts/);
    expect(r.stderr).not.toContain('running');
  });

  it('KILN3011: a hook that throws fails the run, naming the hook, with the resume hint', async () => {
    const root = cloneProject(template);
    setHooks(root, ['./hooks.ts#events', './hooks.ts#Throwing']);
    const r = await kiln(root);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error KILN3011: hook beforeNodeRun of './hooks.ts#Throwing' failed: the hook refused to let the node run");
    expect(r.stderr).toContain('No nodes ran.');
    // The hooks listed before it ran first.
    expect(events(root).map(describeEvent)).toContain('beforeNodeRun left_branch');
    const list = await runMain(['runs', 'list', '--project', root, '--json'], { cwd: root });
    expect((JSON.parse(list.stdout) as Array<{ status: string }>).map((x) => x.status)).toEqual(['FAILED']);
  });
});

describe('node filters', () => {
  let ran: string; // a clone where the whole pipeline ran once, so that every dataset exists
  beforeAll(async () => {
    ran = cloneProject(template);
    expect((await kiln(ran, '--no-track')).code).toBe(0);
  });

  it.each([
    [['--nodes', 'combine'], ['combine']],
    [['--nodes', 'summarize,left_branch'], ['left_branch', 'summarize']],
    [['--from-nodes', 'combine'], ['combine', 'summarize']],
    [['--to-nodes', 'combine'], ['left_branch', 'right_branch', 'combine']],
    [['--tags', 'branch'], ['left_branch', 'right_branch']],
    // Kedro semantics: a tag no node has selects nothing and is no error; a parameter is a dataset to start from.
    [['--tags', 'branch,nightly'], ['left_branch', 'right_branch']],
    [['--from-inputs', 'params:scale.left'], ['left_branch', 'combine', 'summarize']],
    [['--from-inputs', 'left'], ['combine', 'summarize']],
    [['--to-outputs', 'left'], ['left_branch']],
    [['--from-nodes', 'right_branch', '--to-nodes', 'combine'], ['right_branch', 'combine']],
  ])('%j runs %j', async (args, expected) => {
    const root = cloneProject(ran);
    const r = await kiln(root, '--no-track', ...args);
    expect(r.code, r.stderr).toBe(0);
    expect(Object.keys(summary(r.stderr))).toEqual(expected);
  });

  it.each([
    [['--nodes', 'combien'], "unknown node 'combien'", "'combine'"],
    [['--from-nodes', 'left_brnach'], "unknown node 'left_brnach'", "'left_branch'"],
    [['--tags', 'brnch'], "no node has tag 'brnch'", "'branch'"],
    [['--to-outputs', 'combinde'], "unknown dataset 'combinde'", "'combined'"],
  ])('%j is exit 1 with a suggestion', async (args, message, suggestion) => {
    const r = await kiln(cloneProject(ran), '--no-track', ...args);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toMatch(new RegExp(`did you mean ${suggestion}`, 'i'));
    expect(r.stderr).not.toContain('running');
  });
});

describe('--parallel', () => {
  it('runs independent nodes at the same time and gives the same outputs as a sequential run', async () => {
    const sequential = cloneProject(template);
    const parallel = cloneProject(template);
    const a = await kiln(sequential, '--no-track', '--params', 'delay_ms=250');
    const b = await kiln(parallel, '--no-track', '--parallel', '2', '--params', 'delay_ms=250');
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);

    const span = (root: string, node: string) => {
      const ev = events(root);
      return { start: ev.find((e) => e.event === 'beforeNodeRun' && e.node === node)!.t, end: ev.find((e) => e.event === 'afterNodeRun' && e.node === node)!.t };
    };
    const [l, r] = [span(parallel, 'left_branch'), span(parallel, 'right_branch')];
    // Each started before the other ended: they overlapped.
    expect(l.start).toBeLessThan(r.end);
    expect(r.start).toBeLessThan(l.end);
    const [sl, sr] = [span(sequential, 'left_branch'), span(sequential, 'right_branch')];
    expect(sl.end).toBeLessThanOrEqual(sr.start);
    // The dependent node waited for both.
    expect(span(parallel, 'combine').start).toBeGreaterThanOrEqual(Math.max(l.end, r.end));

    for (const f of ['data/left.json', 'data/right.json', 'data/report.json']) expect(readJson(parallel, f)).toEqual(readJson(sequential, f));
    const latest = (root: string) => readJson(root, `data/combined.json/${fs.readdirSync(path.join(root, 'data/combined.json'))[0]}/combined.json`);
    expect(latest(parallel)).toEqual(latest(sequential));
  });
});

describe('a failing node', () => {
  it("KILN3003 names the node and its error at the node's YAML, with the user's stack frames only", async () => {
    const root = cloneProject(template);
    const r = await kiln(root, '--no-track', '--params', 'fault=combine:throw');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("pipelines/flow/pipeline.yaml:13:11 error KILN3003: node 'combine' failed: RangeError: combine: total 20 is out of range");
    const frames = r.stderr.split('\n').filter((l) => /^\s+at /.test(l));
    expect(frames.map((f) => f.trim().split(' (')[0])).toEqual(['at checkTotal', 'at misbehave', 'at Module.combine']);
    for (const f of frames) expect(f).toContain(`${path.join(root, 'pipelines/flow/nodes.ts')}:`);
    expect(r.stderr).toContain('There are 2 nodes that did not run.');
    expect(r.stderr).toContain('--from-nodes "combine"');
    expect(summary(r.stderr)).toEqual({ left_branch: 'done', right_branch: 'done', combine: 'failed', summarize: 'not run' });
  });

  it('gives a resume command that, run as it is, re-runs only what did not finish', async () => {
    const root = cloneProject(template);
    const failed = await kiln(root, '--no-track', '--no-cache', '--from-nodes', 'left_branch,right_branch', '--params', 'fault=summarize:throw');
    expect(failed.code).toBe(1);
    const line = failed.stderr.split('\n').find((l) => l.trim().startsWith('kiln run'));
    expect(line?.trim()).toBe(`kiln run --project ${root} --no-track --no-cache --params fault=summarize:throw --from-nodes "summarize"`);
    // The command as a shell would split it, without the fault: only summarize runs.
    const words = line!.trim().replace('fault=summarize:throw', 'fault=none').split(' ').map((w) => w.replace(/^"(.*)"$/, '$1'));
    const resumed = await runMain(words.slice(1), { cwd: root });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(summary(resumed.stderr)).toEqual({ summarize: 'done' });
  });

  it('says "No nodes ran." when the first node fails', async () => {
    const r = await kiln(cloneProject(template), '--no-track', '--params', 'fault=left_branch:throw');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error KILN3003: node 'left_branch' failed: RangeError: left_branch: total 10 is out of range");
    expect(r.stderr).toContain('No nodes ran. Repeat the previous command to attempt a new run.');
  });

  it('KILN3004: a node that returns undefined, reported at its output in the YAML', async () => {
    const root = cloneProject(template);
    const r = await kiln(root, '--params', 'fault=combine:undefined');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/pipeline\.yaml:16:\d+ error KILN3004: node 'combine' returned no value for output 'combined'/);
    expect(r.stderr).toContain('--from-nodes "combine"');
    const list = await runMain(['runs', 'list', '--project', root, '--json'], { cwd: root });
    expect((JSON.parse(list.stdout) as Array<{ status: string }>).map((x) => x.status)).toEqual(['FAILED']);
  });
});
