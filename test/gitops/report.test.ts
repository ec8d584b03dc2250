// `kiln report`: the latest FINISHED run at the base commit against the latest FINISHED run at HEAD. Runs are
// recorded through the tracking library, stamped with commits of a real (isomorphic-git) repository.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatChange, formatNumber } from '../../src/gitops/report-format.ts';
import type { Report } from '../../src/gitops/report.ts';
import { openTracking, type NewRun } from '../../src/tracking/index.ts';
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

function newRun(root: string, commit: string, branch: string, params: Record<string, unknown>): NewRun {
  return { pipeline: 'score', command: ['kiln', 'run'], git: { root, commit, branch, dirty: false, uncommitted: [], diffHash: null }, versions: { kiln: '0.1.0', node: process.version, tfjs: null }, backend: null, params };
}

async function record(root: string, commit: string, branch: string, run: { params: Record<string, unknown>; metrics: Record<string, number>; svg?: string; status?: 'FINISHED' | 'FAILED' }): Promise<string> {
  const t = openTracking(path.join(root, '.kiln'));
  try {
    const r = await t.runs.createRun(newRun(root, commit, branch, run.params));
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
    expect(md).toContain('| `training-curves.svg` | ![base training-curves.svg](base-training-curves.svg) | ![HEAD training-curves.svg](head-training-curves.svg) |');
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
});
