// `kiln plan`: given a change on a branch, want the structural differences and the nodes that will re-run.
// Each case commits a small project on main, branches, applies its edits (committed or left in the working tree)
// and plans against main.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { planProject } from '../../src/gitops/plan.ts';
import { planIsEmpty, type Plan, type RerunReason } from '../../src/gitops/plan-diff.ts';
import { renderPlanMarkdown, renderPlanText } from '../../src/gitops/plan-format.ts';
import { checkoutNewBranch, codesOf, commitAll, gitInit, kilnHere, tempDir, writeFiles } from './support.ts';

const PROJECT: Record<string, string> = {
  'package.json': '{ "type": "module" }\n',
  'kiln.yaml': 'name: plan-demo\ngit:\n  main: main\npublish:\n  target: dist/models\n',
  'inputs/rows.jsonl': '{"x": 1, "label": 1}\n{"x": -1, "label": 0}\n{"x": 2, "label": 1}\n{"x": -2, "label": 0}\n',
  'pipelines/catalog.yaml': 'rows:\n  type: jsonl\n  path: inputs/rows.jsonl\nstats:\n  type: json\n  path: data/stats.json\npredictions:\n  type: jsonl\n  path: data/predictions.jsonl\nquality:\n  type: metrics\n  path: data/quality.json\n',
  'pipelines/parameters.yaml': 'seed: 7\nsplit:\n  every: 2\nscore:\n  threshold: 0.5\n  scale: 1\n',
  'pipelines/p/pipeline.yaml': [
    'pipeline: p',
    'nodes:',
    '  - name: split',
    '    run: ./prep.ts#split',
    '    inputs: { rows: rows, every: params:split.every }',
    '    outputs: { train: train_rows, test: test_rows }',
    '    tags: [data]',
    '  - name: fit',
    '    run: ./prep.ts#fit',
    '    inputs: { rows: train_rows }',
    '    outputs: stats',
    '  - name: score',
    '    run: ./nodes.ts#score',
    '    inputs: { rows: test_rows, stats: stats, options: params:score }',
    '    outputs: predictions',
    '  - name: evaluate',
    '    run: ./nodes.ts#evaluate',
    '    inputs: { predictions: predictions, rows: test_rows }',
    '    outputs: quality',
    'model:',
    '  name: demo',
    '  input: test_rows',
    '  output: predictions',
    '  gate:',
    '    metrics:',
    '      accuracy: ">= 0.5"',
    '',
  ].join('\n'),
  'pipelines/p/prep.ts': [
    'export interface Row { x: number; label: number }',
    'export function split(a: { rows: Row[]; every: number }) {',
    '  return { train: a.rows.filter((_, i) => i % a.every !== 0), test: a.rows.filter((_, i) => i % a.every === 0) };',
    '}',
    'export function fit(a: { rows: Row[] }) {',
    '  return { mean: a.rows.reduce((s, r) => s + r.x, 0) / a.rows.length };',
    '}',
    '',
  ].join('\n'),
  'pipelines/p/helpers.ts': 'export const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));\n',
  'pipelines/p/nodes.ts': [
    "import { nodeContext } from 'kiln-ml';",
    "import { sigmoid } from './helpers.ts';",
    "import type { Row } from './prep.ts';",
    'export function score(a: { rows: Row[]; stats: { mean: number }; options: { threshold: number; scale: number } }) {',
    '  return a.rows.map((r) => ({ positive: sigmoid((r.x - a.stats.mean) * a.options.scale) > a.options.threshold }));',
    '}',
    'export function evaluate(a: { predictions: Array<{ positive: boolean }>; rows: Row[] }) {',
    "  nodeContext().log('evaluating');",
    '  return { accuracy: a.predictions.filter((p, i) => Number(p.positive) === a.rows[i].label).length / a.rows.length };',
    '}',
    '',
  ].join('\n'),
};

/** A repository with PROJECT (with `base` edits) committed on main and a branch `change` checked out. */
async function repoWithBranch(base: Edit = {}): Promise<string> {
  const root = tempDir('kiln-plan-');
  writeFiles(root, PROJECT);
  fs.writeFileSync(path.join(root, '.gitignore'), 'data/\n.kiln/\n');
  applyEdits(root, base);
  await gitInit(root);
  await commitAll(root, 'base');
  await checkoutNewBranch(root, 'change');
  return root;
}

type Edit = Record<string, string | ((old: string) => string) | null>;

function applyEdits(root: string, edits: Edit): void {
  for (const [rel, e] of Object.entries(edits)) {
    const abs = path.join(root, ...rel.split('/'));
    if (e === null) fs.rmSync(abs);
    else {
      fs.mkdirSync(path.dirname(abs), { recursive: true });
      fs.writeFileSync(abs, typeof e === 'string' ? e : e(fs.readFileSync(abs, 'utf8')));
    }
  }
}

const reruns = (plan: Plan) => Object.fromEntries(plan.pipelines.find((p) => p.name === 'p')!.reruns.map((r) => [r.node, r.reasons]));
const pipelineYaml = (f: (s: string) => string) => ({ 'pipelines/p/pipeline.yaml': f });

interface Case {
  name: string;
  /** Edits to the project on main before the branch (the base). */
  base?: Edit;
  edits: Edit;
  commit?: boolean;
  want: (plan: Plan) => void;
}

const cases: Case[] = [
  {
    name: 'nothing changed',
    edits: {},
    want: (plan) => {
      expect(planIsEmpty(plan)).toBe(true);
      expect(renderPlanText(plan)).toContain('no differences: nothing will re-run');
    },
  },
  {
    name: 'a parameter read through a mapping: the leaf that changed, the node and what is downstream',
    edits: { 'pipelines/parameters.yaml': (s) => s.replace('threshold: 0.5', 'threshold: 0.6') },
    want: (plan) => {
      expect(plan.parameters).toEqual([{ key: 'score.threshold', old: 0.5, new: 0.6 }]);
      expect(reruns(plan)).toEqual({ score: [{ kind: 'params', keys: ['score.threshold'] }], evaluate: [{ kind: 'upstream', nodes: ['score'] }] });
    },
  },
  {
    name: 'a parameter no node reads: listed, nothing re-runs',
    edits: { 'pipelines/parameters.yaml': (s) => `${s}unused: { a: 1 }\n` },
    want: (plan) => {
      expect(plan.parameters).toEqual([{ key: 'unused.a', new: 1 }]);
      expect(reruns(plan)).toEqual({});
    },
  },
  {
    name: 'code of one module: its nodes and their downstream, not the other module',
    edits: { 'pipelines/p/nodes.ts': (s) => s.replace('/ a.rows.length };', '/ Math.max(1, a.rows.length) };') },
    want: (plan) => {
      const r = reruns(plan);
      expect(Object.keys(r)).toEqual(['score', 'evaluate']);
      expect(r.score).toEqual([{ kind: 'code', module: 'pipelines/p/nodes.ts' }]);
    },
  },
  {
    name: 'a comment only: the bundle is the same, so is the fingerprint',
    edits: { 'pipelines/p/prep.ts': (s) => `// Splitting and fitting.\n${s}` },
    want: (plan) => expect(planIsEmpty(plan)).toBe(true),
  },
  {
    name: 'a helper the module imports: the importing nodes re-run (uncommitted changes count)',
    commit: false,
    edits: { 'pipelines/p/helpers.ts': 'export const sigmoid = (z: number) => 1 / (1 + Math.exp(-2 * z));\n' },
    want: (plan) => {
      expect(plan.head.workingTree).toBe(true);
      expect(Object.keys(reruns(plan))).toEqual(['score', 'evaluate']);
    },
  },
  {
    name: 'code that does not bundle (a syntax error) counts as changed, and says why',
    edits: { 'pipelines/p/helpers.ts': 'export const sigmoid = (z: number) => {;\n' },
    want: (plan) => {
      const [reason] = reruns(plan).score;
      expect(reason).toMatchObject({ kind: 'code', module: 'pipelines/p/nodes.ts' });
      expect((reason as { detail: string }).detail).toMatch(/^cannot bundle it at the head: /);
    },
  },
  {
    name: 'wiring: a node added, one removed, inputs changed, tags changed',
    edits: pipelineYaml((s) =>
      s
        .replace('    tags: [data]\n', '    tags: [data, prep]\n')
        .replace('  - name: evaluate\n    run: ./nodes.ts#evaluate', '  - name: check\n    run: ./nodes.ts#evaluate')
        .replace('inputs: { rows: train_rows }', 'inputs: { rows: test_rows }'),
    ),
    want: (plan) => {
      const p = plan.pipelines[0];
      expect(p.nodesAdded).toEqual(['check']);
      expect(p.nodesRemoved).toEqual(['evaluate']);
      expect(p.nodesChanged).toEqual([
        { node: 'split', fields: ['tags'] },
        { node: 'fit', fields: ['inputs'] },
      ]);
      expect(reruns(plan)).toEqual({
        fit: [{ kind: 'wiring', fields: ['inputs'] }],
        score: [{ kind: 'upstream', nodes: ['fit'] }],
        check: [{ kind: 'new' }, { kind: 'upstream', nodes: ['score'] }],
      });
    },
  },
  {
    name: 'the function a node runs',
    edits: { ...pipelineYaml((s) => s.replace('run: ./prep.ts#fit', 'run: ./prep.ts#fit2')), 'pipelines/p/prep.ts': (s) => s.replace('export function fit(', 'export function fit2(') },
    want: (plan) => {
      expect(plan.pipelines[0].nodesChanged).toEqual([{ node: 'fit', fields: ['run'] }]);
      // The module changed, so split (in it too) re-runs as well.
      expect(reruns(plan).split).toEqual([{ kind: 'code', module: 'pipelines/p/prep.ts' }]);
      expect(reruns(plan).fit).toEqual([{ kind: 'code', module: 'pipelines/p/prep.ts' }, { kind: 'wiring', fields: ['function'] }, { kind: 'upstream', nodes: ['split'] }]);
    },
  },
  {
    name: 'catalog entries added, removed and changed; input data changed',
    edits: {
      'pipelines/catalog.yaml': (s) => s.replace('path: data/stats.json', 'path: data/fitted/stats.json').replace(/quality:\n  type: metrics\n  path: data\/quality.json\n/, '') + 'extra:\n  type: text\n  path: data/extra.txt\n',
      'inputs/rows.jsonl': (s) => `${s}{"x": 3, "label": 1}\n`,
    },
    want: (plan) => {
      expect(plan.catalog).toEqual([
        { dataset: 'extra', change: 'added', fields: [], type: 'text' },
        { dataset: 'quality', change: 'removed', fields: [], type: 'metrics' },
        { dataset: 'stats', change: 'changed', fields: ['path'], type: 'json' },
      ]);
      expect(plan.inputData).toEqual([{ dataset: 'rows', why: 'inputs/rows.jsonl changed' }]);
      expect(reruns(plan).split).toEqual([{ kind: 'data', datasets: ['rows'] }]);
      expect(Object.keys(reruns(plan))).toEqual(['split', 'fit', 'score', 'evaluate']);
    },
  },
  {
    name: "an output's catalog type: its producer and its reader re-run (the fingerprint covers the declaration)",
    edits: { 'pipelines/catalog.yaml': (s) => s.replace('predictions:\n  type: jsonl\n  path: data/predictions.jsonl', 'predictions:\n  type: json\n  path: data/predictions.json') },
    want: (plan) => {
      expect(reruns(plan)).toEqual({ score: [{ kind: 'catalog', datasets: ['predictions'] }], evaluate: [{ kind: 'catalog', datasets: ['predictions'] }, { kind: 'upstream', nodes: ['score'] }] });
      expect(plan.pipelines[0].reruns.map((r) => r.certain)).toEqual([true, true]);
    },
  },
  {
    name: 'committed files inside a partitioned input folder: the reader re-runs',
    base: { 'pipelines/catalog.yaml': (s) => s.replace('rows:\n  type: jsonl\n  path: inputs/rows.jsonl', 'rows:\n  type: partitioned\n  path: inputs/parts\n  options: { dataset: jsonl, suffix: .jsonl }'), 'inputs/parts/a.jsonl': '{"x": 1, "label": 1}\n' },
    edits: { 'inputs/parts/b.jsonl': '{"x": -1, "label": 0}\n' },
    want: (plan) => {
      expect(plan.inputData).toEqual([{ dataset: 'rows', why: 'files in inputs/parts/ changed' }]);
      expect(reruns(plan).split).toEqual([{ kind: 'data', datasets: ['rows'] }]);
      expect(plan.pipelines[0].reruns.map((r) => [r.node, r.certain])).toEqual([['split', true], ['fit', false], ['score', false], ['evaluate', false]]);
    },
  },
  {
    name: 'input data outside git: plan says it cannot see it',
    base: { '.gitignore': (s) => `${s}inputs/\n`, 'inputs/rows.jsonl': null },
    edits: {},
    want: (plan) => {
      expect(planIsEmpty(plan)).toBe(true);
      expect(plan.unseen).toEqual(["the content of 'rows' (inputs/rows.jsonl is in neither revision: ignored, or made outside git)"]);
      expect(renderPlanText(plan)).toContain("no differences: nothing will re-run\n\nplan cannot see:\n  the content of 'rows' (inputs/rows.jsonl is in neither revision: ignored, or made outside git)\n");
    },
  },
  {
    name: 'the backend in kiln.yaml: every node of a pipeline that uses TensorFlow.js re-runs',
    base: { 'pipelines/p/prep.ts': (s) => `import type * as tf from '@tensorflow/tfjs';\nexport type Tensor = tf.Tensor;\n${s}` },
    edits: { 'kiln.yaml': (s) => `${s}backend: cpu\n` },
    want: (plan) => {
      expect(plan.settings).toEqual([{ key: 'backend', old: 'auto', new: 'cpu' }]);
      expect(Object.values(reruns(plan)).map((r) => r[0])).toEqual(Array(4).fill({ kind: 'backend', old: 'auto', new: 'cpu' }));
      expect(plan.unseen).toEqual(["a backend given to `kiln run --backend` (plan assumes kiln.yaml's: cpu); another one re-runs every node of a pipeline that uses TensorFlow.js"]);
    },
  },
  {
    name: 'the model binding and kiln.yaml',
    edits: { ...pipelineYaml((s) => s.replace('">= 0.5"', '">= 0.75"\n    better_than: production')), 'kiln.yaml': (s) => s.replace('dist/models', 'published') },
    want: (plan) => {
      expect(plan.models).toEqual([
        {
          pipeline: 'p',
          model: 'demo',
          change: 'changed',
          fields: [
            { key: 'gate.better_than', old: null, new: 'production' },
            { key: 'gate.metrics.accuracy', old: '>= 0.5', new: '>= 0.75' },
          ],
        },
      ]);
      expect(plan.settings).toEqual([{ key: 'publish.target', old: 'dist/models', new: 'published' }]);
      expect(reruns(plan)).toEqual({});
    },
  },
];

describe('kiln plan', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const root = await repoWithBranch(c.base);
      applyEdits(root, c.edits);
      if (c.commit !== false && Object.keys(c.edits).length) await commitAll(root, c.name);
      c.want(await planProject({ root }));
    });
  }

  it('renders Markdown for a pull request: summary, re-run table, parameters, collapsed details; pipes escaped', async () => {
    const root = await repoWithBranch();
    applyEdits(root, { 'pipelines/parameters.yaml': (s) => s.replace('seed: 7', 'seed: "a|b"').replace('every: 2', 'every: 3'), ...pipelineYaml((s) => s.replace('    tags: [data]\n', '')) });
    const md = renderPlanMarkdown(await planProject({ root }));
    expect(md.split('\n').slice(0, 2)).toEqual(['<!-- kiln-plan -->', '### kiln plan']);
    // Only split certainly re-runs; the nodes below it re-run only if split writes different bytes.
    expect(md).toContain('**p**: 1 of 4 nodes will re-run, 3 may re-run · 2 parameters changed');
    expect(md).toContain('#### Will re-run in `p`\n\n| Node | Why |\n| --- | --- |\n| `split` | parameter `split.every` changed |\n');
    expect(md).toContain('#### May re-run in `p` (only if a node above writes different bytes)\n\n| Node | Why |\n| --- | --- |\n| `fit` | upstream re-runs: `split` |');
    expect(md).toContain('| `seed` | `7` | `"a\\|b"` |');
    expect(md).toMatch(/<details><summary>Structural changes<\/summary>\n\n\*\*Nodes of `p`\*\*\n\n\| Node \| Change \| Fields \|\n\| --- \| --- \| --- \|\n\| `split` \| changed \| tags \|\n\n<\/details>\n$/);
    const text = renderPlanText(await planProject({ root }));
    expect(text).toContain('  ~ split.every: 2 → 3');
    expect(text).toContain('pipeline p: 1 of 4 nodes will re-run, 3 may re-run');
    expect(text).toContain('  will re-run:\n    split     parameter split.every changed\n  may re-run (only if a node above writes different bytes):\n    fit       upstream re-runs: split\n');
  });

  it('compares two revisions with --base and --head (HEAD~1, a sha prefix), from git objects only', async () => {
    const root = await repoWithBranch();
    applyEdits(root, { 'pipelines/parameters.yaml': (s) => s.replace('every: 2', 'every: 4') });
    const first = await commitAll(root, 'every 4');
    applyEdits(root, { 'pipelines/parameters.yaml': (s) => s.replace('every: 4', 'every: 5') });
    await commitAll(root, 'every 5');
    // The working tree is left different from both: --head must not read it.
    applyEdits(root, { 'pipelines/parameters.yaml': (s) => s.replace('every: 5', 'every: 6') });
    const plan = await planProject({ root, base: 'HEAD~1', head: 'HEAD' });
    expect(plan.parameters).toEqual([{ key: 'split.every', old: 4, new: 5 }]);
    expect(plan.head.workingTree).toBe(false);
    const byPrefix = await planProject({ root, base: first.slice(0, 8), head: 'main' });
    expect(byPrefix.parameters).toEqual([{ key: 'split.every', old: 4, new: 2 }]);
  });

  it('a project in a subfolder of the repository', async () => {
    const repo = tempDir('kiln-plan-');
    const root = path.join(repo, 'ml', 'project');
    writeFiles(root, PROJECT);
    writeFiles(repo, { 'README.md': '# monorepo\n', 'ml/other.yaml': 'pipeline: not-ours\n' });
    await gitInit(repo);
    await commitAll(repo, 'base');
    await checkoutNewBranch(repo, 'change');
    applyEdits(root, { 'pipelines/p/helpers.ts': 'export const sigmoid = (z: number) => z > 0 ? 1 : 0;\n', 'pipelines/parameters.yaml': (s) => s.replace('every: 2', 'every: 3') });
    await commitAll(repo, 'change');
    const plan = await planProject({ root });
    expect(plan.parameters).toEqual([{ key: 'split.every', old: 2, new: 3 }]);
    expect(reruns(plan).score).toEqual([{ kind: 'code', module: 'pipelines/p/nodes.ts' }, { kind: 'upstream', nodes: ['fit', 'split'] }]);
  });

  it('a base without a kiln project (the pull request that adds kiln): everything is new', async () => {
    const root = tempDir('kiln-plan-');
    writeFiles(root, { 'README.md': '# app\n' });
    await gitInit(root);
    await commitAll(root, 'before kiln');
    await checkoutNewBranch(root, 'add-kiln');
    writeFiles(root, PROJECT);
    await commitAll(root, 'add kiln');
    const plan = await planProject({ root });
    expect(plan.base.label).toBe('main (no kiln project)');
    expect(plan.pipelines).toMatchObject([{ name: 'p', change: 'added', nodesAdded: ['evaluate', 'fit', 'score', 'split'], nodeCount: 4 }]);
    expect(plan.parameters.map((c) => c.key)).toEqual(['score.scale', 'score.threshold', 'seed', 'split.every']);
    expect(plan.catalog.every((c) => c.change === 'added')).toBe(true);
    expect(renderPlanText(plan)).toContain('pipeline p is new: all 4 nodes will run');
  });

  it('errors in the declarations at the base are diagnostics at <commit>:<file>, with the base text in the code frame', async () => {
    const root = tempDir('kiln-plan-');
    writeFiles(root, { ...PROJECT, 'pipelines/parameters.yaml': 'seed: [unclosed\n' });
    await gitInit(root);
    const bad = await commitAll(root, 'broken');
    await checkoutNewBranch(root, 'fix');
    writeFiles(root, { 'pipelines/parameters.yaml': PROJECT['pipelines/parameters.yaml'] });
    await commitAll(root, 'fixed');
    const r = await kilnHere(['plan'], root);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`KILN7004: the declarations at main (${bad.slice(0, 7)}) have 1 error(s)`);
    expect(r.stderr).toContain(`${bad.slice(0, 7)}:pipelines/parameters.yaml:2:1 error KILN1001`);
    expect(r.stderr).toContain('  1 | seed: [unclosed');
  });

  it('says what is wrong with the revisions: no repository, unknown ref, no main branch', async () => {
    const plain = tempDir('kiln-plan-');
    writeFiles(plain, PROJECT);
    expect(await codesOf(() => planProject({ root: plain }))).toEqual(['KILN7001']);

    const root = await repoWithBranch();
    const unknown = await kilnHere(['plan', '--base', 'mian'], root);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("KILN7002: unknown git revision 'mian'. Did you mean 'main'?");

    applyEdits(root, { 'kiln.yaml': (s) => s.replace('main: main', 'main: trunk') });
    const noMain = await kilnHere(['plan'], root);
    expect(noMain.code).toBe(1);
    expect(noMain.stderr).toContain("KILN7003: cannot find where HEAD left the main branch 'trunk': there is no branch 'trunk' (nor origin/trunk)");
  });

  it('prints JSON with --format json', async () => {
    const root = await repoWithBranch();
    applyEdits(root, { 'pipelines/parameters.yaml': (s) => s.replace('scale: 1', 'scale: 2') });
    const r = await kilnHere(['plan', '--format', 'json'], root);
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout) as Plan;
    expect(plan.base).toMatchObject({ label: 'main', workingTree: false });
    expect(reruns(plan).score).toEqual([{ kind: 'params', keys: ['score.scale'] }] satisfies RerunReason[]);
  });
});
