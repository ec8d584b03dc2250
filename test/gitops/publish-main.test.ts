// `kiln publish` ships what main declares: it prefers a clean full run at HEAD, refuses runs with --params overrides
// or a node filter (naming the run, the override and the clean command), and with --allow-overrides publishes one,
// the overrides recorded in the registry and shown by `kiln registry show`. Republishing is idempotent.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openTracking } from '../../src/tracking/index.ts';
import { commitAll, gitInit, kiln, kilnHere, repoRoot, tempDir } from './support.ts';

let root: string;
let head: string;

const runAt = (args: string[]): string => {
  const r = kiln(['run', ...args], root);
  expect(r.code, r.stderr).toBe(0);
  return /run (\w+) finished/.exec(r.stderr)![1];
};

async function recordOf(id: string) {
  const t = openTracking(path.join(root, '.kiln'));
  try {
    return await t.runs.getRun(id);
  } finally {
    t.close();
  }
}

beforeAll(async () => {
  root = tempDir('kiln-publish-main-');
  fs.cpSync(path.join(repoRoot, 'test/fixtures/projects/scorer'), root, { recursive: true });
  fs.writeFileSync(path.join(root, 'package.json'), '{ "type": "module" }\n');
  fs.writeFileSync(path.join(root, '.gitignore'), '.kiln/\ndata/\ndist/\n');
  fs.appendFileSync(path.join(root, 'kiln.yaml'), 'publish:\n  target: dist/models\n');
  expect((await kilnHere(['compile', '--no-typecheck'], root)).code).toBe(0);
  await gitInit(root);
  head = await commitAll(root, 'scorer');
});

describe('kiln publish ships only what main declares', () => {
  it('prefers the clean full run at HEAD over a newer run with --params overrides, which records them', async () => {
    const clean = runAt([]);
    // seed is read by no node: every node is restored from the cache, yet the run is not main's.
    const overridden = runAt(['--params', 'seed=8']);
    expect((await recordOf(overridden)).invocation).toEqual({ params: { seed: 8 }, loadVersions: {}, filter: {}, backend: null, cache: true });
    expect((await recordOf(clean)).invocation).toEqual({ params: {}, loadVersions: {}, filter: {}, backend: null, cache: true });

    const r = await kilnHere(['publish', '--json'], root);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ version: 1, run: clean, commit: head, overrides: [], alreadyPublished: false });
  });

  it('refuses a run with --params (KILN7022), naming the run, the override and the clean command; --allow-overrides publishes it, recorded', async () => {
    fs.writeFileSync(path.join(root, 'NOTES.md'), 'a commit without a run\n');
    head = await commitAll(root, 'notes');
    const overridden = runAt(['--params', 'seed=8']);

    const refused = await kilnHere(['publish'], root);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`KILN7022: cannot publish 'scorer': run ${overridden} is not a run of main as committed: --params seed=8 (parameters.yaml: 7)`);
    expect(refused.stderr).toContain('kiln run score (no --params, --load-version, node filter or --backend), then kiln publish');
    expect(refused.stderr).toContain('kiln publish --allow-overrides');
    expect(fs.readdirSync(path.join(root, 'dist/models/scorer'))).toEqual(['v1']);

    const allowed = await kilnHere(['publish', '--allow-overrides'], root);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stdout).toContain(`published scorer v2 from run ${overridden}`);
    expect(allowed.stdout).toContain('overrides (--allow-overrides, recorded in the registry): --params seed=8 (parameters.yaml: 7)');
    const show = await kilnHere(['registry', 'show', 'scorer'], root);
    expect(show.stdout).toContain('\nv2 published with --allow-overrides: --params seed=8 (parameters.yaml: 7)\n');
    expect(show.stdout).not.toContain('v1 published with');
    const json = JSON.parse((await kilnHere(['registry', 'show', 'scorer', '--json'], root)).stdout) as { versions: Array<{ version: number; overrides: string[] }> };
    expect(json.versions.map((v) => [v.version, v.overrides])).toEqual([[2, ['--params seed=8 (parameters.yaml: 7)']], [1, []]]);
  });

  it('publishing the same artifact again adds no version; a named alias still moves to it', async () => {
    const again = await kilnHere(['publish', '--allow-overrides'], root);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('is already published as scorer v2 (dist/models/scorer/v2); nothing to do\n  scorer@production: v2\n');
    const staging = await kilnHere(['publish', '--allow-overrides', '--alias', 'staging', '--json'], root);
    expect(staging.code, staging.stderr).toBe(0);
    expect(JSON.parse(staging.stdout)).toMatchObject({ version: 2, alias: 'staging', previous: null, alreadyPublished: true, aliasMoved: true });
    const list = await kilnHere(['registry', 'list'], root);
    expect(list.stdout).toContain('scorer  v2      2         production→v2, staging→v2');
    expect(fs.readdirSync(path.join(root, 'dist/models/scorer')).sort()).toEqual(['v1', 'v2']);
  });

  it('refuses a run of part of the pipeline (a node filter), naming the nodes that did not run', async () => {
    const partial = runAt(['--to-nodes', 'score']);
    expect((await recordOf(partial)).invocation?.filter).toEqual({ toNodes: ['score'] });
    const r = await kilnHere(['publish', '--json'], root);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual([expect.objectContaining({ code: 'KILN7022', message: `cannot publish 'scorer': run ${partial} is not a run of main as committed: --to-nodes score: evaluate did not run` })]);
  });
});
