// The GitOps story end to end, on a project made by `kiln init` in a temporary git repository (isomorphic-git):
// run → publish v1 → branch → change a parameter → plan → run → report → merge → run → publish v2 → rollback,
// with the refusals of publish (feature branch, no run at HEAD, dirty tree, failing gate) along the way.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveArtifact } from '../../src/artifact/resolve.ts';
import { loadArtifact } from '../../src/artifact/load.ts';
import { commands } from '../../src/cli/commands.ts';
import { openTracking } from '../../src/tracking/index.ts';
import type { Plan } from '../../src/gitops/plan-diff.ts';
import type { Report } from '../../src/gitops/report.ts';
import { checkoutNewBranch, commitAll, gitInit, kiln, kilnHere, linkKiln, mergeInto, tempDir } from './support.ts';

let root: string;
const read = (rel: string) => fs.readFileSync(path.join(root, ...rel.split('/')), 'utf8');
const write = (rel: string, text: string) => fs.writeFileSync(path.join(root, ...rel.split('/')), text);
const ok = (r: { code: number; stdout: string; stderr: string }) => expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);

beforeAll(async () => {
  root = path.join(tempDir(), 'plant');
  const init = kiln(['init', root, '--ci', 'github'], path.dirname(root));
  ok(init);
  expect(init.stdout).toContain("created kiln project 'plant'");
  linkKiln(root);
  await gitInit(root);
  await commitAll(root, 'kiln init');
});

describe('the GitOps story', () => {
  it('runs on main and publishes version 1 as production', async () => {
    ok(kiln(['run'], root));
    const published = kiln(['publish'], root);
    ok(published);
    expect(published.stdout).toMatch(/^published plant v1 from run \w+ \(commit [0-9a-f]{7} on main\)/);
    expect(published.stdout).toContain('plant@production: (unset) → v1');
    expect(fs.existsSync(path.join(root, 'dist/models/plant/v1/manifest.json'))).toBe(true);
    // Publishing leaves no trace in the working tree: dist/ and .kiln/ are ignored.
    const again = await kilnHere(['publish', '--dry-run'], root);
    ok(again);
    expect(again.stdout).toContain('is already published as plant v1 (dist/models/plant/v1); nothing to do');
  });

  it('plans a parameter change on a branch: the parameter and the nodes that will re-run', async () => {
    await checkoutNewBranch(root, 'more-epochs');
    write('pipelines/parameters.yaml', read('pipelines/parameters.yaml').replace('epochs: 40', 'epochs: 80'));
    await commitAll(root, 'Train longer');

    const json = await kilnHere(['plan', '--format', 'json'], root);
    ok(json);
    const plan = JSON.parse(json.stdout) as Plan;
    expect(plan.base.label).toBe('main');
    expect(plan.parameters).toEqual([{ key: 'train.epochs', old: 40, new: 80 }]);
    const p = plan.pipelines.find((x) => x.name === 'classifier')!;
    expect(p.reruns.map((r) => r.node)).toEqual(['train', 'predict', 'evaluate']);
    expect(p.reruns[0].reasons).toEqual([{ kind: 'params', keys: ['train.epochs'] }]);
    expect(p.reruns[1].reasons).toEqual([{ kind: 'upstream', nodes: ['train'] }]);

    const md = kiln(['plan', '--format', 'md'], root);
    ok(md);
    expect(md.stdout).toContain('**classifier**: 1 of 5 nodes will re-run, 2 may re-run');
    expect(p.reruns.map((r) => r.certain)).toEqual([true, false, false]);
    expect(md.stdout).toContain('| `train.epochs` | `40` | `80` |');
    expect(md.stdout).toContain('| `train` | parameter `train.epochs` changed |');
  });

  it('refuses to publish from a feature branch', async () => {
    const r = await kilnHere(['publish'], root);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("KILN7006: cannot publish: HEAD is on branch 'more-epochs', not the main branch 'main'");
  });

  it('runs the branch and reports the metric deltas against main', async () => {
    const run = kiln(['run'], root);
    ok(run);
    expect(run.stderr).toMatch(/split: skipped, unchanged/);
    const out = path.join(tempDir(), 'report');
    const md = await kilnHere(['report', '--out', out], root);
    ok(md);
    expect(md.stdout).toMatch(/\| `train_loss` \| 0\.2\d+ \| 0\.2\d+ \| ↓ −0\.0\d+ \(−\d+(\.\d+)?%\) \|/);
    expect(md.stdout).toContain('| `accuracy` | 0.933333 | 0.933333 | no change |');
    expect(md.stdout).toContain('| `train.epochs` | `40` | `80` |');
    // The curves are drawn in the Markdown itself (GitHub renders Mermaid where a relative image path would not).
    expect(md.stdout).toContain('`train_loss`: grey: base (40 steps), blue: HEAD (80 steps), 50 of 80 steps shown\n\n```mermaid\n');
    expect(md.stdout).toContain('| `training-curves.svg` | `base-training-curves.svg` | `head-training-curves.svg` |');
    expect(fs.readFileSync(path.join(out, 'head-training-curves.svg'), 'utf8')).toMatch(/^<svg/);
    expect(fs.readFileSync(path.join(out, 'report.md'), 'utf8')).toBe(md.stdout);

    const json = await kilnHere(['report', '--format', 'json'], root);
    const report = JSON.parse(json.stdout) as Report;
    expect(report.base.run).not.toBeNull();
    expect(report.metrics.find((m) => m.key === 'train_loss')!.delta).toBeLessThan(0);
  });

  it('merges into main; publishing wants a run at the merge commit, a clean tree and a passing gate', async () => {
    await mergeInto(root, 'main', 'more-epochs');
    expect(read('pipelines/parameters.yaml')).toContain('epochs: 80');

    const noRun = await kilnHere(['publish'], root);
    expect(noRun.code).toBe(1);
    expect(noRun.stderr).toMatch(/KILN7007: cannot publish 'plant': no FINISHED run of pipeline 'classifier' at HEAD \([0-9a-f]{7}\)/);

    // A run with an override that ruins accuracy: finished, parity passed, but not main's; accepted, the gate says no.
    ok(kiln(['run', '--params', 'predict.threshold=1.01'], root));
    const overridden = await kilnHere(['publish'], root);
    expect(overridden.code).toBe(1);
    expect(overridden.stderr).toMatch(/KILN7022: cannot publish 'plant': run \w+ is not a run of main as committed: --params predict\.threshold=1\.01 \(parameters\.yaml: 0\.5\)/);
    const gate = await kilnHere(['publish', '--allow-overrides'], root);
    expect(gate.code).toBe(1);
    expect(gate.stderr).toMatch(/KILN7009: cannot publish 'plant': the gate fails: accuracy is 0\.\d+, which is not >= 0\.8/);
    expect(gate.stderr).toContain('KILN7010');

    ok(kiln(['run'], root));
    const params = read('pipelines/parameters.yaml');
    write('pipelines/parameters.yaml', params.replace('seed: 7', 'seed: 8'));
    const dirty = await kilnHere(['publish'], root);
    expect(dirty.code).toBe(1);
    expect(dirty.stderr).toContain('KILN7005: cannot publish: the working tree has uncommitted changes (pipelines/parameters.yaml modified)');
    write('pipelines/parameters.yaml', params);
  });

  it('publishes version 2, rolls production back to version 1, and resolves model@production to it', async () => {
    const published = await kilnHere(['publish'], root);
    ok(published);
    expect(published.stdout).toContain('plant@production: v1 → v2');
    expect(published.stdout).toContain('accuracy 0.933333 >= 0.933333 of production (v1)');

    const rollback = await kilnHere(['registry', 'rollback', 'plant'], root);
    ok(rollback);
    expect(rollback.stdout).toBe('rolled back plant@production: v2 → v1 (dist/models/plant/v1)\n');
    const show = JSON.parse((await kilnHere(['registry', 'show', 'plant', '--json'], root)).stdout) as { aliases: Record<string, number>; versions: Array<{ version: number; artifactPath: string; commit: string }> };
    expect(show.aliases).toEqual({ production: 1 });
    expect(show.versions.map((v) => v.artifactPath)).toEqual(['dist/models/plant/v2', 'dist/models/plant/v1']);

    const resolved = await resolveArtifact('plant@production', root);
    expect(resolved).toEqual({ dir: path.join(root, 'dist/models/plant/v1'), version: 1, model: 'plant', digest: expect.stringMatching(/^[0-9a-f]{64}$/) });
    // The digest the registry recorded is the published manifest's sha256.
    expect(resolved.digest).toBe(createHash('sha256').update(fs.readFileSync(path.join(resolved.dir, 'manifest.json'))).digest('hex'));
    expect((await resolveArtifact('plant@v2', path.relative(process.cwd(), root))).dir).toBe(path.join(root, 'dist/models/plant/v2'));

    const input = path.join(root, 'input.jsonl');
    fs.writeFileSync(input, '{"temperature": 90, "vibration": 6}\n{"temperature": 50, "vibration": 1}\n');
    if (commands.some((c) => c.name === 'predict')) {
      const r = kiln(['predict', 'plant@production', '--input', input], root);
      ok(r);
      expect(r.stdout).toMatch(/"faulty":\s*true[\s\S]*"faulty":\s*false/);
    } else {
      const model = await loadArtifact(resolved.dir, { digest: resolved.digest! });
      expect(model.manifest.metrics.train_loss).toBeGreaterThan(0.25);
      const [hot, cold] = (await model.predict([{ temperature: 90, vibration: 6 }, { temperature: 50, vibration: 1 }])) as Array<{ faulty: boolean }>;
      expect([hot.faulty, cold.faulty]).toEqual([true, false]);
    }
    const t = openTracking(path.join(root, '.kiln'));
    try {
      expect((await t.registry.aliasHistory('plant', 'production')).map((h) => h.version)).toEqual([1, 2, 1]);
    } finally {
      t.close();
    }
  });
});
