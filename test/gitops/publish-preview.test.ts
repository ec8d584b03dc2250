// What a pull request's job learns before the merge: `kiln publish --dry-run --as-main` judges the branch's run as
// main would after the merge (the gate against production above all), and `--format md` writes that verdict, passed
// or refused, for the job summary. Also KILN_PUBLISH_TARGET, by which CI points publishing at its registry.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishTargetOf, publishTargetOverride } from '../../src/config/publish-target.ts';
import { startRegistry, type TestRegistry } from '../helpers/oci-registry.ts';
import { checkout, checkoutNewBranch, commitAll, gitInit, kiln, kilnHere, repoRoot, tempDir } from './support.ts';

let root: string;
let registry: TestRegistry | null = null;

/** Runs `fn` with KILN_PUBLISH_TARGET set (the CLI runs in this process), restoring the environment after. */
async function withTarget<T>(value: string, fn: () => Promise<T>): Promise<T> {
  const before = process.env.KILN_PUBLISH_TARGET;
  process.env.KILN_PUBLISH_TARGET = value;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env.KILN_PUBLISH_TARGET;
    else process.env.KILN_PUBLISH_TARGET = before;
  }
}

const setThreshold = async (branch: string, threshold: string) => {
  await checkout(root, 'main');
  await checkoutNewBranch(root, branch);
  const file = path.join(root, 'pipelines/parameters.yaml');
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('threshold: 0.5', `threshold: ${threshold}`));
  await commitAll(root, `threshold ${threshold}`);
  const run = kiln(['run'], root);
  expect(run.code, run.stderr).toBe(0);
};

beforeAll(async () => {
  root = tempDir('kiln-publish-preview-');
  fs.cpSync(path.join(repoRoot, 'test/fixtures/projects/scorer'), root, { recursive: true });
  fs.writeFileSync(path.join(root, 'package.json'), '{ "type": "module" }\n');
  fs.writeFileSync(path.join(root, '.gitignore'), '.kiln/\ndata/\ndist/\n');
  fs.appendFileSync(path.join(root, 'kiln.yaml'), 'publish:\n  target: dist/models\n');
  const pipeline = path.join(root, 'pipelines/score/pipeline.yaml');
  fs.writeFileSync(pipeline, `${fs.readFileSync(pipeline, 'utf8')}    better_than: production\n`);
  expect((await kilnHere(['compile', '--no-typecheck'], root)).code).toBe(0);
  await gitInit(root);
  await commitAll(root, 'scorer');
  const run = kiln(['run'], root);
  expect(run.code, run.stderr).toBe(0);
  const v1 = await kilnHere(['publish'], root);
  expect(v1.code, v1.stderr).toBe(0);
}, 60_000);

afterAll(async () => {
  await registry?.stop();
});

describe('kiln publish --dry-run --as-main on a pull-request branch', () => {
  it('is red for a change that main would refuse, with the verdict as Markdown on stdout and the diagnostic on stderr', async () => {
    await setThreshold('worse', '0.95');
    const plain = await kilnHere(['publish', '--dry-run'], root);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toContain("KILN7006: cannot publish: HEAD is on branch 'worse', not the main branch 'main'");

    const r = await kilnHere(['publish', '--dry-run', '--as-main', '--format', 'md'], root);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("pipelines/score/pipeline.yaml:26:5 error KILN7010: cannot publish 'scorer': accuracy is 0.7, worse than production (v1: 0.9)");
    expect(r.stderr).not.toContain('KILN7006');
    expect(r.stdout).toBe(
      [
        '<!-- kiln-publish -->',
        '### kiln publish --dry-run (as if merged into main)',
        '',
        '**Merged as it is, this commit would not be published by main:**',
        '',
        "- **KILN7010** cannot publish 'scorer': accuracy is 0.7, worse than production (v1: 0.9) (`pipelines/score/pipeline.yaml:26`)<br>model.gate.better\\_than: production requires every gated metric to be at least as good as the version production points at.",
        '',
      ].join('\n'),
    );
    // Nothing moved: production is still v1, and no v2 folder was made.
    expect(fs.readdirSync(path.join(root, 'dist/models/scorer'))).toEqual(['v1']);
    expect((await kilnHere(['registry', 'list'], root)).stdout).toContain('production→v1');
  });

  it('is green for a change main would publish, saying which version it would become', async () => {
    await setThreshold('same', '0.5000001');
    const r = await kilnHere(['publish', '--dry-run', '--as-main', '--format', 'md'], root);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('### kiln publish --dry-run (as if merged into main)\n\n**Would publish `scorer` v2: every condition holds.**\n');
    expect(r.stdout).toContain('| Gate | accuracy 0.9 \\>= 0.5<br>accuracy 0.9 \\>= 0.9 of production (v1) |');
    expect(r.stdout).toContain('| `scorer@production` | v1 → v2 (not moved: dry run) |');
    expect(fs.readdirSync(path.join(root, 'dist/models/scorer'))).toEqual(['v1']);
  });

  it('is refused without --dry-run (a bad invocation, exit 2): only main publishes', async () => {
    const r = await kilnHere(['publish', '--as-main'], root);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("error: option '--as-main' previews a publish and needs --dry-run: only main's own checkout publishes\n");
    expect(fs.readdirSync(path.join(root, 'dist/models/scorer'))).toEqual(['v1']);
  });
});

describe('KILN_PUBLISH_TARGET', () => {
  it('replaces publish.target with an oci:// repository; empty is unset; anything else is KILN7059', async () => {
    expect(publishTargetOverride({})).toBeNull();
    expect(publishTargetOverride({ KILN_PUBLISH_TARGET: '' })).toBeNull();
    expect(publishTargetOverride({ KILN_PUBLISH_TARGET: 'oci://ghcr.io/acme/sensors' })).toEqual({ target: 'oci://ghcr.io/acme/sensors' });
    expect(publishTargetOf(root, { KILN_PUBLISH_TARGET: 'oci://ghcr.io/acme/sensors' })).toBe('oci://ghcr.io/acme/sensors');
    expect(publishTargetOf(root, {})).toBe('dist/models');
    // model@alias resolution reads the target without loading the project: a bad value is refused there too.
    expect(() => publishTargetOf(root, { KILN_PUBLISH_TARGET: 'dist/elsewhere' })).toThrow(/KILN_PUBLISH_TARGET="dist\/elsewhere" cannot be the publish target/);
    for (const [value, reason] of [
      ['dist/elsewhere', 'it is not an oci:// reference'],
      ['oci://ghcr.io/acme/sensors:v1', 'a publish target names a repository, without a tag or digest'],
      ['oci://ghcr.io/Acme/sensors', 'lowercase'],
    ]) {
      const r = await withTarget(value, () => kilnHere(['validate'], root));
      expect(r.code, value).toBe(1);
      expect(r.stderr).toContain(`KILN7059: KILN_PUBLISH_TARGET="${value}" cannot be the publish target: `);
      expect(r.stderr).toContain(reason);
    }
  });

  it('sends kiln registry and kiln publish to that registry instead of kiln.yaml\'s folder', async () => {
    registry = await startRegistry();
    const target = `oci://${registry.host}/acme/line-3`;
    await checkout(root, 'main');
    const list = await withTarget(target, () => kilnHere(['registry', 'list'], root));
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).not.toContain('production→v1');
    const r = await withTarget(target, () => kilnHere(['publish', '--json'], root));
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ model: 'scorer', version: 1, artifact: expect.stringMatching(new RegExp(`^oci://${registry.host.replace(/\./g, '\\.')}/acme/line-3/scorer:v1@sha256:`)) });
    expect((await withTarget(target, () => kilnHere(['registry', 'list'], root))).stdout).toContain('production→v1');
    // kiln.yaml's own registry is untouched: still v1 only.
    expect(fs.readdirSync(path.join(root, 'dist/models/scorer'))).toEqual(['v1']);
  });
});
