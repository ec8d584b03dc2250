// `kiln plan` in a project that installs kiln (and other packages) in node_modules, which git ignores: packages are
// hashed as what each revision locks in package-lock.json, never read as project files missing from git. Once with
// kiln linked to this repository (test/gitops/support.ts), once with kiln copied into node_modules as npm installs it
// (the running kiln then lives inside the project, where the bug was).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { planProject } from '../../src/gitops/plan.ts';
import type { Plan } from '../../src/gitops/plan-diff.ts';
import { kilnVersion } from '../../src/version.ts';
import { checkoutNewBranch, commitAll, gitInit, linkKiln, repoRoot, tempDir, writeFiles } from './support.ts';

const lock = (stats: string, kiln = kilnVersion) =>
  JSON.stringify(
    {
      name: 'installed-demo',
      lockfileVersion: 3,
      requires: true,
      packages: {
        '': { name: 'installed-demo', dependencies: { 'kiln-ml': `^${kilnVersion}`, 'tiny-stats': '^1.0.0' } },
        'node_modules/kiln-ml': { version: kiln, resolved: `https://registry.npmjs.org/kiln-ml/-/kiln-ml-${kiln}.tgz`, integrity: `sha512-kiln${kiln}` },
        'node_modules/tiny-stats': { version: stats, resolved: `https://registry.npmjs.org/tiny-stats/-/tiny-stats-${stats}.tgz`, integrity: `sha512-stats${stats}` },
      },
    },
    null,
    2,
  ) + '\n';

const PROJECT: Record<string, string> = {
  'package.json': '{ "name": "installed-demo", "type": "module", "dependencies": { "kiln-ml": "^0.2.0", "tiny-stats": "^1.0.0" } }\n',
  'package-lock.json': lock('1.0.0'),
  '.gitignore': 'node_modules/\n.kiln/\ndata/\n',
  'kiln.yaml': 'name: installed-demo\n',
  'inputs/rows.jsonl': '{"x": 1}\n{"x": 3}\n{"x": 5}\n',
  'pipelines/catalog.yaml': 'rows:\n  type: jsonl\n  path: inputs/rows.jsonl\nsummary:\n  type: json\n  path: data/summary.json\n',
  'pipelines/parameters.yaml': 'scale: 2\n',
  'pipelines/p/pipeline.yaml': [
    'pipeline: p',
    'nodes:',
    '  - name: scale',
    '    run: ./scale.ts#scale',
    '    inputs: { rows: rows, factor: params:scale }',
    '    outputs: scaled',
    '  - name: summarize',
    '    run: ./summarize.ts#summarize',
    '    inputs: { rows: scaled }',
    '    outputs: summary',
    '',
  ].join('\n'),
  // Imports kiln only.
  'pipelines/p/scale.ts': "import { nodeContext } from 'kiln-ml';\nexport function scale(a: { rows: Array<{ x: number }>; factor: number }) {\n  nodeContext().log('scaling');\n  return a.rows.map((r) => r.x * a.factor);\n}\n",
  // Imports another package from node_modules, and kiln/ml.
  'pipelines/p/summarize.ts': "import { mean } from 'tiny-stats';\nimport { createRandom } from 'kiln-ml/ml';\nexport function summarize(a: { rows: number[] }) {\n  return { mean: mean(a.rows), draw: createRandom(1, 'x').next() };\n}\n",
};

const STATS = { 'node_modules/tiny-stats/package.json': '{ "name": "tiny-stats", "version": "1.0.0", "type": "module", "main": "index.js" }\n', 'node_modules/tiny-stats/index.js': 'export const mean = (xs) => xs.reduce((s, x) => s + x, 0) / xs.length;\n' };

/** kiln as npm installs it: the package's files copied into node_modules (its own dependencies reached through a link). */
function copyKiln(project: string): string {
  const dest = path.join(project, 'node_modules', 'kiln-ml');
  for (const rel of ['package.json', 'bin', 'lib', 'schema']) fs.cpSync(path.join(repoRoot, rel), path.join(dest, rel), { recursive: true });
  fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dest, 'node_modules'), 'dir');
  return path.join(dest, 'bin', 'kiln.js');
}

/** main: the project; branch `change`: a commit changing only a parameter, then one bumping tiny-stats in the lockfile. */
async function history(install: (root: string) => void): Promise<{ root: string; params: string; bump: string }> {
  const root = tempDir('kiln-plan-installed-');
  writeFiles(root, { ...PROJECT, ...STATS });
  install(root);
  await gitInit(root);
  await commitAll(root, 'base');
  await checkoutNewBranch(root, 'change');
  writeFiles(root, { 'pipelines/parameters.yaml': 'scale: 3\n' });
  const params = await commitAll(root, 'scale 3');
  writeFiles(root, { 'package-lock.json': lock('1.1.0') });
  const bump = await commitAll(root, 'tiny-stats 1.1.0');
  return { root, params, bump };
}

const reruns = (plan: Plan) => Object.fromEntries(plan.pipelines.flatMap((p) => p.reruns.map((r) => [r.node, r.reasons.map((x) => (x.kind === 'code' ? `code ${x.module}${x.detail ? `: ${x.detail}` : ''}` : x.kind))])));

function planWith(bin: string, root: string, base: string, head: string): Plan {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const k of ['VITEST', 'VITEST_WORKER_ID', 'VITEST_POOL_ID']) delete env[k];
  const r = spawnSync(process.execPath, [bin, 'plan', '--base', base, '--head', head, '--format', 'json'], { cwd: root, env, encoding: 'utf8', timeout: 90_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Plan;
}

describe('kiln plan in a project that installs kiln', () => {
  it('kiln linked into node_modules: a parameter change re-runs only the node that reads it; a bumped lock re-runs the nodes importing that package', async () => {
    const { root, params, bump } = await history(linkKiln);
    expect(reruns(await planProject({ root, base: 'main', head: params }))).toEqual({ scale: ['params'], summarize: ['upstream'] });
    expect(reruns(await planProject({ root, base: params, head: bump }))).toEqual({ summarize: ['code pipelines/p/summarize.ts'] });
    // The working tree (head by default) reads its lockfile from disk, with the same result.
    expect(reruns(await planProject({ root }))).toEqual({ scale: ['params'], summarize: ['code pipelines/p/summarize.ts', 'upstream'] });
  });

  it('kiln copied into node_modules, running from there: the same, and a commit locking another kiln version re-runs every node importing kiln', async () => {
    let bin = '';
    const { root, params, bump } = await history((r) => (bin = copyKiln(r)));
    expect(reruns(planWith(bin, root, 'main', params))).toEqual({ scale: ['params'], summarize: ['upstream'] });
    expect(reruns(planWith(bin, root, params, bump))).toEqual({ summarize: ['code pipelines/p/summarize.ts'] });
    writeFiles(root, { 'package-lock.json': lock('1.1.0', '0.1.0') });
    const older = await commitAll(root, 'kiln 0.1.0');
    expect(reruns(planWith(bin, root, bump, older))).toEqual({ scale: ['code pipelines/p/scale.ts'], summarize: ['code pipelines/p/summarize.ts', 'upstream'] });
  });
});
