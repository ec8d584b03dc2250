// Repositories laid out other ways than one folder with .git inside: a linked worktree (`git worktree add`), a
// shallow clone (CI's `--depth 1`) and a submodule checkout. Built with the git binary, as users build them.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Plan } from '../../src/gitops/plan-diff.ts';
import { gitStamp } from '../../src/tracking/git.ts';
import { kilnHere, tempDir, writeFiles } from './support.ts';

const PROJECT: Record<string, string> = {
  'package.json': '{ "type": "module" }\n',
  'kiln.yaml': 'name: checkouts\ngit:\n  main: main\n',
  '.gitignore': 'data/\n.kiln/\n',
  'inputs/rows.jsonl': '{"x": 1}\n{"x": 2}\n',
  'pipelines/catalog.yaml': 'rows:\n  type: jsonl\n  path: inputs/rows.jsonl\nscaled:\n  type: json\n  path: data/scaled.json\n',
  'pipelines/parameters.yaml': 'scale: 1\n',
  'pipelines/p/pipeline.yaml': 'pipeline: p\nnodes:\n  - name: scale\n    run: ./nodes.ts#scale\n    inputs: { rows: rows, by: params:scale }\n    outputs: scaled\n',
  'pipelines/p/nodes.ts': 'export function scale(a: { rows: Array<{ x: number }>; by: number }) {\n  return a.rows.map((r) => r.x * a.by);\n}\n',
};

function sh(cwd: string, ...args: string[]): string {
  const env = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com', HOME: os.tmpdir() };
  return execFileSync('git', args, { cwd, env, encoding: 'utf8' }).trim();
}

/** A repository on main with two commits: the project, then scale 2. */
function mainRepo(): string {
  const root = tempDir('kiln-checkouts-');
  writeFiles(root, PROJECT);
  sh(root, 'init', '-q', '-b', 'main');
  sh(root, 'add', '-A');
  sh(root, 'commit', '-qm', 'project');
  fs.writeFileSync(path.join(root, 'pipelines/parameters.yaml'), 'scale: 2\n');
  sh(root, 'commit', '-qam', 'scale 2');
  return root;
}

/** Why node `scale` re-runs in the plan: the parameter `scale` changed between the two commits. */
const paramChange = (plan: Plan) => {
  const rerun = plan.pipelines.find((p) => p.name === 'p')?.reruns.find((r) => r.node === 'scale');
  return rerun?.reasons.some((r) => r.kind === 'params' && r.keys.includes('scale')) ?? false;
};

describe('git checkouts', () => {
  it('a linked worktree: runs are stamped with its commit and branch, and plan reads its history', async () => {
    const main = mainRepo();
    const wt = path.join(tempDir('kiln-worktree-'), 'wt');
    sh(main, 'worktree', 'add', '-q', wt, '-b', 'feature');
    fs.writeFileSync(path.join(wt, 'pipelines/parameters.yaml'), 'scale: 3\n');
    sh(wt, 'commit', '-qam', 'scale 3');
    fs.writeFileSync(path.join(wt, 'notes.md'), 'draft\n');

    const { stamp, diagnostics } = await gitStamp(wt);
    expect(diagnostics).toEqual([]);
    expect(stamp).toMatchObject({ root: wt, commit: sh(wt, 'rev-parse', 'HEAD'), branch: 'feature', dirty: true, uncommitted: [{ path: 'notes.md', status: 'untracked' }] });

    const plan = await kilnHere(['plan', '--format', 'json'], wt);
    expect(plan.code, plan.stderr).toBe(0);
    const p = JSON.parse(plan.stdout) as Plan;
    expect(p.base).toMatchObject({ label: 'main', commit: sh(main, 'rev-parse', 'main') });
    expect(paramChange(p)).toBe(true);
    // Clean at HEAD~1 vs the working tree: only the untracked notes changed, nothing re-runs.
    const back = await kilnHere(['plan', '--base', 'HEAD~1', '--head', 'HEAD~1', '--format', 'json'], wt);
    expect(back.code, back.stderr).toBe(0);
    expect(paramChange(JSON.parse(back.stdout) as Plan)).toBe(false);
  });

  it('a shallow clone: a revision beyond the fetched history is KILN7030 with how to fetch it, not a stack trace', async () => {
    const main = mainRepo();
    sh(main, 'checkout', '-q', '-b', 'feature');
    fs.writeFileSync(path.join(main, 'pipelines/parameters.yaml'), 'scale: 3\n');
    sh(main, 'commit', '-qam', 'scale 3');
    const clone = path.join(tempDir('kiln-shallow-'), 'clone');
    sh(os.tmpdir(), 'clone', '-q', '--depth', '1', '--no-single-branch', '-b', 'feature', `file://${main}`, clone);
    expect(fs.existsSync(path.join(clone, '.git', 'shallow'))).toBe(true);

    const parent = await kilnHere(['plan', '--base', 'HEAD~1'], clone);
    expect(parent.code).toBe(1);
    expect(parent.stderr).toContain("error KILN7030: 'HEAD~1' is outside the history of this shallow clone (the fetched history stops at");
    expect(parent.stderr).toContain('git fetch --deepen=<N>');
    expect(parent.stderr).toContain('git fetch --unshallow');
    expect(parent.stderr).not.toContain('internal error');

    // The default base, where HEAD left main: the two tips were fetched, the commits between them were not.
    const mergeBase = await kilnHere(['plan', '--format', 'json'], clone);
    expect(mergeBase.code).toBe(1);
    expect(JSON.parse(mergeBase.stdout)).toMatchObject([{ code: 'KILN7030', message: expect.stringContaining('the merge base of HEAD and origin/main') }]);

    // A commit id that was not fetched.
    const first = sh(main, 'rev-list', '--max-parents=0', 'HEAD');
    const unfetched = await kilnHere(['plan', '--base', first.slice(0, 10)], clone);
    expect(unfetched.code).toBe(1);
    expect(unfetched.stderr).toContain(`KILN7030: '${first.slice(0, 10)}' is outside the history of this shallow clone`);

    // Fetching the history, as the hint says, makes the same plan work.
    sh(clone, 'fetch', '-q', '--unshallow');
    const after = await kilnHere(['plan', '--base', 'HEAD~1', '--format', 'json'], clone);
    expect(after.code, after.stderr).toBe(0);
    expect(paramChange(JSON.parse(after.stdout) as Plan)).toBe(true);
  });

  it('a submodule checkout (a .git file naming the parent repository\'s modules folder): stamped and planned', async () => {
    const sub = mainRepo();
    const parent = tempDir('kiln-super-');
    sh(parent, 'init', '-q', '-b', 'main');
    sh(parent, '-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', `file://${sub}`, 'ml');
    sh(parent, 'commit', '-qm', 'add ml');
    const checkout = path.join(parent, 'ml');
    expect(fs.readFileSync(path.join(checkout, '.git'), 'utf8')).toMatch(/^gitdir: /);

    const { stamp } = await gitStamp(checkout);
    expect(stamp).toMatchObject({ root: checkout, commit: sh(sub, 'rev-parse', 'HEAD'), dirty: false });
    const plan = await kilnHere(['plan', '--base', 'HEAD~1', '--format', 'json'], checkout);
    expect(plan.code, plan.stderr).toBe(0);
    expect(paramChange(JSON.parse(plan.stdout) as Plan)).toBe(true);
  });
});
