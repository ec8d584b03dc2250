// Tracked runs in a real git repository (made with isomorphic-git, no git binary): the commit and dirty state each
// run records, a parameter change seen by `runs show`, `runs compare` and `runs search`, and a run after which
// nothing changed that skips every node yet still records its metrics.
import fs from 'node:fs';
import path from 'node:path';
import git from 'isomorphic-git';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunComparison, RunRecord, RunSummary } from '../../src/tracking/index.ts';
import { runMain } from '../helpers/cli.ts';
import { cloneProject, warmProject } from '../helpers/warm-project.ts';
import { kiln } from './kiln-process.ts';

const author = { name: 'Kiln Test', email: 'test@kiln.invalid', timestamp: 1_700_000_000, timezoneOffset: 0 };

async function commitAll(dir: string, message: string): Promise<string> {
  await git.add({ fs, dir, filepath: '.' });
  return git.commit({ fs, dir, message, author });
}

describe('tracked runs in a git repository', () => {
  let repo: string;
  let first: string;
  const ids: string[] = [];
  const outputs: string[] = [];

  const runs = async (...args: string[]) => {
    const r = await runMain(['runs', ...args, '--project', repo, '--json'], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as unknown;
  };
  const show = async (id: string) => (await runs('show', id)) as RunRecord;

  async function run(): Promise<string> {
    const r = await kiln(['run', '--project', repo], repo);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('KILN4001'); // stamped with a commit
    outputs.push(r.stdout + r.stderr);
    const id = /run (\w+) finished/.exec(r.stderr)![1];
    ids.push(id);
    return id;
  }

  beforeAll(async () => {
    repo = cloneProject(await warmProject('scorer'), 'kiln-git-');
    // Outputs and the store are not part of the project's history.
    fs.writeFileSync(path.join(repo, '.gitignore'), 'data/\n.kiln/\n');
    await git.init({ fs, dir: repo, defaultBranch: 'main' });
    first = await commitAll(repo, 'scorer project');
  });

  it('run 1 on a clean checkout records the commit, clean', async () => {
    const rec = await show(await run());
    expect(rec.status).toBe('FINISHED');
    expect(rec.git).toMatchObject({ commit: first, branch: 'main', dirty: false, uncommitted: [], diffHash: null });
    expect(rec.params).toMatchObject({ threshold: 0.5, seed: 7, 'split.test_every': 4 });
    expect(rec.nodes.map((n) => [n.node, n.cacheHit])).toEqual([
      ['split', false],
      ['fit', false],
      ['score', false],
      ['evaluate', false],
    ]);
    expect(rec.metrics.accuracy.value).toBeGreaterThan(0);
    expect(outputs[0]).toContain(`artifact scorer from run ${rec.id}`);
  });

  it('run 2 after a parameter change: same commit, dirty with the file listed, the new value recorded', async () => {
    const file = path.join(repo, 'pipelines/parameters.yaml');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('threshold: 0.5', 'threshold: 0.6'));
    const rec = await show(await run());
    expect(rec.params.threshold).toBe(0.6);
    expect(rec.git.commit).toBe(first);
    expect(rec.git.dirty).toBe(true);
    expect(rec.git.uncommitted).toEqual([{ path: 'pipelines/parameters.yaml', status: 'modified', blob: expect.stringMatching(/^[0-9a-f]{40}$/) }]);
    expect(rec.git.diffHash).toMatch(/^[0-9a-f]{64}$/);
    // Only the nodes that read the threshold, and what depends on them, ran again.
    expect(Object.fromEntries(rec.nodes.map((n) => [n.node, n.cacheHit]))).toEqual({ split: true, fit: true, score: false, evaluate: false });
  });

  it('run 3 after committing, with nothing changed: every node skipped, cache hits recorded, metrics still recorded', async () => {
    const second = await commitAll(repo, 'threshold 0.6');
    const id = await run();
    expect(outputs[2]).toContain('4 node(s), all skipped as unchanged');
    for (const node of ['split', 'fit', 'score', 'evaluate']) expect(outputs[2]).toContain(`${node}: skipped, unchanged`);
    const rec = await show(id);
    expect(rec.git).toMatchObject({ commit: second, dirty: false, uncommitted: [] });
    expect(rec.nodes.map((n) => [n.node, n.status, n.cacheHit])).toEqual([
      ['split', 'FINISHED', true],
      ['fit', 'FINISHED', true],
      ['score', 'FINISHED', true],
      ['evaluate', 'FINISHED', true],
    ]);
    const before = await show(ids[1]);
    expect(rec.metrics.accuracy.value).toBe(before.metrics.accuracy.value);
    expect(rec.metrics.count.value).toBe(before.metrics.count.value);
    // The printed metrics table of a fully skipped run still has them, and the artifact is built from restored state.
    expect(outputs[2]).toMatch(/accuracy\s+\d/);
    expect(outputs[2]).toContain(`artifact scorer from run ${id}`);
  });

  it('runs compare of run 1 and run 2 shows the parameter change', async () => {
    const cmp = (await runs('compare', ids[0], ids[1])) as RunComparison;
    expect(cmp.params.find((p) => p.key === 'threshold')).toEqual({ key: 'threshold', a: 0.5, b: 0.6, changed: true });
    expect(cmp.params.filter((p) => p.changed).map((p) => p.key)).toEqual(['threshold']);
  });

  it('runs search on a parameter finds the right runs', async () => {
    const ids05 = ((await runs('search', 'params.threshold = 0.5')) as RunSummary[]).map((r) => r.id);
    const ids06 = ((await runs('search', 'params.threshold = 0.6')) as RunSummary[]).map((r) => r.id);
    expect(ids05).toEqual([ids[0]]);
    expect(new Set(ids06)).toEqual(new Set([ids[1], ids[2]]));
  });
});
