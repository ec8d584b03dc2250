// `kiln report`: main as committed at the base commit against the latest FINISHED run at HEAD, with metric histories
// drawn as Mermaid charts. Runs are recorded through the tracking library, stamped with commits of a real
// (isomorphic-git) repository.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatChange, formatNumber, renderReportMarkdown } from '../../src/gitops/report-format.ts';
import { evenlySpaced, MAX_CURVE_POINTS, mermaidNumber } from '../../src/gitops/report-curves.ts';
import type { Report } from '../../src/gitops/report.ts';
import { openTracking, type NewRun } from '../../src/tracking/index.ts';
import type { RunInvocation } from '../../src/tracking/store.ts';
import { checkoutNewBranch, commitAll, gitInit, kilnHere, repoRoot, tempDir } from './support.ts';

/** The scorer fixture in a repository: `main` with one commit, then branch `feat` with a parameter change. */
async function scorerRepo(): Promise<{ root: string; base: string; head: string }> {
  const root = tempDir('kiln-report-');
  fs.cpSync(path.join(repoRoot, 'test/fixtures/projects/scorer'), root, { recursive: true });
  fs.writeFileSync(path.join(root, 'package.json'), '{ "type": "module" }\n');
  fs.writeFileSync(path.join(root, '.gitignore'), '.kiln/\ndata/\n');
  await gitInit(root);
  const base = await commitAll(root, 'base');
  await checkoutNewBranch(root, 'feat');
  const file = path.join(root, 'pipelines/parameters.yaml');
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('threshold: 0.5', 'threshold: 0.6'));
  const head = await commitAll(root, 'threshold 0.6');
  return { root, base, head };
}

function newRun(root: string, commit: string, branch: string, params: Record<string, unknown>, invocation?: RunInvocation, dirty = false): NewRun {
  return { pipeline: 'score', command: ['kiln', 'run'], git: { root, commit, branch, dirty, uncommitted: [], diffHash: dirty ? 'd'.repeat(64) : null }, versions: { kiln: '0.1.0', node: process.version, tfjs: null }, backend: null, params, ...(invocation ? { invocation } : {}) };
}

const invocation = (more: Partial<RunInvocation> = {}): RunInvocation => ({ params: {}, loadVersions: {}, filter: {}, backend: null, cache: true, ...more });

async function record(
  root: string,
  commit: string,
  branch: string,
  run: { params: Record<string, unknown>; metrics: Record<string, number>; svg?: string; status?: 'FINISHED' | 'FAILED'; invocation?: RunInvocation; history?: Record<string, number[]>; dirty?: boolean },
): Promise<string> {
  const t = openTracking(path.join(root, '.kiln'));
  try {
    const r = await t.runs.createRun(newRun(root, commit, branch, run.params, run.invocation, run.dirty));
    for (const [key, values] of Object.entries(run.history ?? {})) for (const [step, value] of values.entries()) await t.runs.logMetrics(r.id, { [key]: value }, { step });
    await t.runs.logMetrics(r.id, run.metrics);
    if (run.svg) await t.runs.logFile(r.id, 'training-curves.svg', run.svg);
    await t.runs.logFile(r.id, 'notes.txt', 'not an image');
    await t.runs.finishRun(r.id, { status: run.status ?? 'FINISHED' });
    return r.id;
  } finally {
    t.close();
  }
}

describe('kiln report', () => {
  it('compares the latest finished runs at the base and at HEAD: metric deltas, parameters, images', async () => {
    const { root, base, head } = await scorerRepo();
    const a = await record(root, base, 'main', { params: { threshold: 0.5, seed: 7 }, metrics: { accuracy: 0.8, loss: 0.5, gone: 1 }, svg: '<svg>base</svg>' });
    const b = await record(root, head, 'feat', { params: { threshold: 0.6, seed: 7 }, metrics: { accuracy: 0.9, loss: 0.5, fresh: 3 }, svg: '<svg>head</svg>' });
    await record(root, head, 'feat', { params: { threshold: 0.7, seed: 7 }, metrics: { accuracy: 0.1 }, status: 'FAILED' });
    const out = path.join(tempDir('kiln-report-out-'), 'report');

    const r = await kilnHere(['report', '--out', out], root);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const md = r.stdout;
    expect(md).toContain('### kiln report: `score` (model `scorer`)');
    expect(md).toContain(`| Base (\`main\`) | \`${base.slice(0, 7)}\` | \`${a}\` |`);
    expect(md).toContain(`| HEAD | \`${head.slice(0, 7)}\` | \`${b}\` |`);
    expect(md).toContain('| Metric | Old | New | Change |\n| --- | ---: | ---: | ---: |');
    expect(md).toContain('| `accuracy` | 0.8 | 0.9 | ↑ +0.1 (+12.5%) |');
    expect(md).toContain('| `loss` | 0.5 | 0.5 | no change |');
    expect(md).toContain('| `gone` | 1 | — | gone |');
    expect(md).toContain('| `fresh` | — | 3 | new |');
    expect(md).toContain('| `threshold` | `0.5` | `0.6` |');
    expect(md).not.toContain('`seed`');
    // Named, not embedded: a relative image path does not render in a job summary or a comment.
    expect(md).toContain('| `training-curves.svg` | `base-training-curves.svg` | `head-training-curves.svg` |');
    expect(md).not.toContain('![');
    expect(md).not.toContain('notes.txt');
    expect(fs.readFileSync(path.join(out, 'base-training-curves.svg'), 'utf8')).toBe('<svg>base</svg>');
    expect(fs.readFileSync(path.join(out, 'head-training-curves.svg'), 'utf8')).toBe('<svg>head</svg>');
    expect(fs.readFileSync(path.join(out, 'report.md'), 'utf8')).toBe(md);

    const json = JSON.parse((await kilnHere(['report', '--format', 'json', '--base', base.slice(0, 9)], root)).stdout) as Report;
    expect(json.base).toMatchObject({ label: base.slice(0, 9), commit: base, run: { id: a, branch: 'main', dirty: false } });
    expect(json.metrics.find((m) => m.key === 'accuracy')).toMatchObject({ old: 0.8, new: 0.9 });
    expect(json.params).toEqual([{ key: 'threshold', old: 0.5, new: 0.6 }]);
    expect(json.images).toEqual([{ name: 'training-curves.svg', base: null, head: null }]);
    // Without --out, the report says how to get the images.
    const plain = await kilnHere(['report', '--format', 'md'], root);
    expect(plain.stdout).toContain('or `kiln runs get <run> <file>` for one.');
  });

  it('says clearly when a side has no finished run (a warning, exit 0), and still shows the other side', async () => {
    const { root, head } = await scorerRepo();
    await record(root, head, 'feat', { params: { threshold: 0.6 }, metrics: { accuracy: 0.9 } });
    const r = await kilnHere(['report'], root);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning KILN7016: no FINISHED run of pipeline 'score' at the base main \([0-9a-f]{7}\)/);
    expect(r.stdout).toContain('| Base (`main`) |');
    expect(r.stdout).toContain('**no FINISHED run**');
    expect(r.stdout).toContain('> **Note:** no FINISHED run of `score` at the base `main`');
    expect(r.stdout).toContain('| `accuracy` | — | 0.9 | new |');

    const none = await scorerRepo();
    const both = await kilnHere(['report', '--project', none.root], repoRoot);
    expect(both.code).toBe(0);
    expect(both.stderr.match(/KILN7016/g)).toHaveLength(2);
    expect(both.stdout).toContain('No metrics recorded.');
    expect(fs.existsSync(path.join(none.root, '.kiln'))).toBe(false);
  });

  it('an unknown --pipeline is KILN2014', async () => {
    const { root } = await scorerRepo();
    const r = await kilnHere(['report', '--pipeline', 'scroe'], root);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("KILN2014: unknown pipeline 'scroe'. Did you mean 'score'?");
  });

  it('formats numbers and changes like dvc metrics diff', () => {
    const table: Array<[old: number | null, now: number | null, want: string]> = [
      [0.5, 0.75, '↑ +0.25 (+50%)'],
      [2, 1, '↓ −1 (−50%)'],
      [0, 0.1, '↑ +0.1'],
      [1, 1, 'no change'],
      [null, 1, 'new'],
      [1, null, 'gone'],
    ];
    for (const [old, now, want] of table) {
      const delta = old !== null && now !== null ? now - old : null;
      expect(formatChange({ key: 'm', old, new: now, delta, relative: delta !== null && old ? delta / Math.abs(old) : null })).toBe(want);
    }
    expect([formatNumber(0.1234567), formatNumber(42), formatNumber(null), formatNumber(NaN), formatNumber(1e-7)]).toEqual(['0.123457', '42', '—', 'NaN', '1e-7']);
  });
  it('compares with main as committed at the base: a newer run on that commit with --params or a node filter is passed over (KILN7058 when no other is there)', async () => {
    const { root, base, head } = await scorerRepo();
    const asCommitted = await record(root, base, 'main', { params: { threshold: 0.5 }, metrics: { accuracy: 0.8 }, invocation: invocation() });
    await record(root, base, 'main', { params: { threshold: 0.9 }, metrics: { accuracy: 0.99 }, invocation: invocation({ params: { threshold: 0.9 } }) });
    await record(root, base, 'main', { params: { threshold: 0.5 }, metrics: { accuracy: 0.97 }, invocation: invocation({ filter: { nodes: ['score'] } }) });
    await record(root, head, 'feat', { params: { threshold: 0.6 }, metrics: { accuracy: 0.9 } });
    const r = await kilnHere(['report', '--format', 'json'], root);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const json = JSON.parse(r.stdout) as Report;
    expect(json.base.run?.id).toBe(asCommitted);
    expect(json.metrics.find((m) => m.key === 'accuracy')).toMatchObject({ old: 0.8, new: 0.9 });

    const only = await scorerRepo();
    const experiment = await record(only.root, only.base, 'main', { params: { threshold: 0.9 }, metrics: { accuracy: 0.99 }, invocation: invocation({ params: { threshold: 0.9 } }) });
    await record(only.root, only.head, 'feat', { params: { threshold: 0.6 }, metrics: { accuracy: 0.9 } });
    const warned = await kilnHere(['report'], only.root);
    expect(warned.code).toBe(0);
    expect(warned.stderr).toContain(`warning KILN7058: no run of main as committed at the base main (${only.base.slice(0, 7)}): run ${experiment} was passed over (--params threshold=0.9)`);
    expect(warned.stderr).not.toContain('KILN7016');
    expect(warned.stdout).toContain('| `accuracy` | — | 0.9 | new |');

    const dirty = await scorerRepo();
    const uncommitted = await record(dirty.root, dirty.base, 'main', { params: { threshold: 0.5 }, metrics: { accuracy: 0.8 }, invocation: invocation(), dirty: true });
    const fromDirty = await kilnHere(['report'], dirty.root);
    expect(fromDirty.stderr).toContain(`KILN7058: no run of main as committed at the base main (${dirty.base.slice(0, 7)}): run ${uncommitted} was passed over (uncommitted changes)`);
  });

  it('draws the metric histories of both runs as Mermaid line charts, base grey and HEAD blue', async () => {
    const { root, base, head } = await scorerRepo();
    await record(root, base, 'main', { params: { threshold: 0.5 }, metrics: { accuracy: 0.8 }, history: { loss: [0.9, 0.5, 0.25] } });
    await record(root, head, 'feat', { params: { threshold: 0.6 }, metrics: { accuracy: 0.9 }, history: { loss: [0.8, 0.4, 0.2, 0.125], val_loss: [0.85, 0.6] } });
    const r = await kilnHere(['report'], root);
    expect(r.code, r.stderr).toBe(0);
    const charts = r.stdout.slice(r.stdout.indexOf('#### Training curves'));
    expect(charts).toBe(
      [
        '#### Training curves',
        '',
        '`loss`: grey: base (3 steps), blue: HEAD (4 steps)',
        '',
        '```mermaid',
        '%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "#8c8c8c, #1f77b4"}}}}%%',
        'xychart-beta',
        '  x-axis "step" ["0", "1", "2", "3"]',
        '  line [0.9, 0.5, 0.25]',
        '  line [0.8, 0.4, 0.2, 0.125]',
        '```',
        '',
        '`val_loss`: blue: HEAD (2 steps)',
        '',
        '```mermaid',
        '%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "#1f77b4"}}}}%%',
        'xychart-beta',
        '  x-axis "step" ["0", "1"]',
        '  line [0.85, 0.6]',
        '```',
        '',
      ].join('\n'),
    );
    // A metric logged once (accuracy) is a row of the table, not a chart.
    expect(charts).not.toContain('accuracy');
  });

  it('renders a report with histories to these exact bytes; a hostile metric name stays inert text outside the chart', () => {
    const hostile = 'loss```\n</details><script>alert(1)</script>\n| x | y |';
    const report: Report = {
      pipeline: 'score',
      model: 'scorer',
      base: { label: 'main', commit: 'a'.repeat(40), run: { id: 'run-a', branch: 'main', dirty: false, startTime: 0 } },
      head: { label: 'HEAD', commit: 'b'.repeat(40), run: { id: 'run-b', branch: 'feat', dirty: false, startTime: 1 } },
      metrics: [{ key: hostile, old: 0.5, new: 0.25, delta: -0.25, relative: -0.5 }],
      params: [],
      curves: [{ key: hostile, base: [[1, 1e-7], [2, -3], [5, 1e21]], head: [[1, 0.5], [3, 0.125]] }],
      images: [],
    };
    expect(renderReportMarkdown(report)).toBe(
      [
        '<!-- kiln-report -->',
        '### kiln report: `score` (model `scorer`)',
        '',
        '|  | Commit | Run |',
        '| --- | --- | --- |',
        '| Base (`main`) | `aaaaaaa` | `run-a` |',
        '| HEAD | `bbbbbbb` | `run-b` |',
        '',
        '#### Metrics',
        '',
        '| Metric | Old | New | Change |',
        '| --- | ---: | ---: | ---: |',
        '| ```` loss``` </details><script>alert(1)</script> \\| x \\| y \\| ```` | 0.5 | 0.25 | ↓ −0.25 (−50%) |',
        '',
        '#### Parameters',
        '',
        'Both runs used the same parameters.',
        '',
        '#### Training curves',
        '',
        '```` loss``` </details><script>alert(1)</script> \\| x \\| y \\| ````: grey: base (3 steps), blue: HEAD (2 steps)',
        '',
        '```mermaid',
        '%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "#8c8c8c, #1f77b4"}}}}%%',
        'xychart-beta',
        '  x-axis "step" ["1", "2", "3", "5"]',
        '  line [0.0000001, -3, -3, 1000000000000000000000]',
        '  line [0.5, 0.5, 0.125]',
        '```',
        '',
      ].join('\n'),
    );
  });

  it('thins a long history to evenly spaced steps, first and last kept, the same every time', () => {
    const steps = Array.from({ length: 1000 }, (_, i) => i);
    const picked = evenlySpaced(steps, MAX_CURVE_POINTS);
    expect(picked).toHaveLength(MAX_CURVE_POINTS);
    expect([picked[0], picked[1], picked[MAX_CURVE_POINTS - 1]]).toEqual([0, 20, 999]);
    expect(evenlySpaced(steps, MAX_CURVE_POINTS)).toEqual(picked);
    expect(evenlySpaced([1, 2, 3], MAX_CURVE_POINTS)).toEqual([1, 2, 3]);
    const md = renderReportMarkdown({
      pipeline: 'p', model: null,
      base: { label: 'main', commit: 'a'.repeat(40), run: null },
      head: { label: 'HEAD', commit: 'b'.repeat(40), run: { id: 'r', branch: null, dirty: false, startTime: 0 } },
      metrics: [], params: [], images: [],
      curves: [{ key: 'loss', base: null, head: steps.map((s) => [s, 1 / (s + 1)] as [number, number]) }],
    });
    expect(md).toContain('`loss`: blue: HEAD (1000 steps), 50 of 1000 steps shown');
    const line = /\n {2}line \[([^\]]*)\]/.exec(md)![1].split(', ');
    expect(line).toHaveLength(MAX_CURVE_POINTS);
    expect([line[0], line[49]]).toEqual(['1', mermaidNumber(1 / 1000)]);
  });
});
