// Issue 14's acceptance: kiln as a team gets it. `npm pack` of this repository, the tarball installed with npm into
// (a) a new project and (b) an existing TypeScript project, `kiln init` there, `kiln run`, `kiln plan` on a branch, and
// `kiln predict` with the built artifact copied to a folder outside any project. Slow: npm builds better-sqlite3 from
// source (minutes on a loaded 2-core machine), so it runs once, in (a); (b) starts from a hard-linked copy of (a)'s
// node_modules, as a CI cache of node_modules would, and npm then only adds what (b) lacks. Figures go to stdout.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkoutNewBranch, commitAll, gitInit, repoRoot, tempDir, writeFiles } from '../gitops/support.ts';

const figures: Record<string, number> = {};
const NPM_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund'];

function sh(what: string, command: string, args: string[], cwd: string, timeoutMs = 300_000): { stdout: string; stderr: string } {
  // JOBS: node-gyp compiles better-sqlite3 on every core (it uses one by default), the install's largest cost.
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', JOBS: 'max' };
  for (const k of ['FORCE_COLOR', 'VITEST', 'VITEST_WORKER_ID', 'VITEST_POOL_ID', 'KILN_DEBUG', 'NODE_OPTIONS']) delete env[k];
  const t0 = performance.now();
  const r = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  figures[what] = Math.round(performance.now() - t0) / 1000;
  if (r.error) throw r.error;
  expect(r.status, `${what}: ${command} ${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(0);
  return { stdout: r.stdout, stderr: r.stderr };
}

/** The one artifact a run built, copied to a fresh folder with no package.json or node_modules anywhere above it. */
function copyArtifactAway(project: string, model: string): string {
  const builds = path.join(project, '.kiln', 'artifacts', model);
  const [run] = fs.readdirSync(builds);
  const away = path.join(tempDir('kiln-away-'), 'model');
  fs.cpSync(path.join(builds, run), away, { recursive: true });
  for (let dir = path.dirname(away); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    expect(fs.existsSync(path.join(dir, 'package.json')) || fs.existsSync(path.join(dir, 'node_modules')), `${dir} holds a project`).toBe(false);
  }
  return away;
}

/** Predicts the parity records' inputs with the copied artifact; the outputs must be training's, bit for bit. */
function predictAway(project: string, away: string): void {
  const records = fs.readFileSync(path.join(away, 'parity.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { input: unknown; output: unknown });
  const input = path.join(path.dirname(away), 'input.jsonl');
  fs.writeFileSync(input, records.map((r) => JSON.stringify(r.input)).join('\n') + '\n');
  const out = path.join(path.dirname(away), 'predictions.jsonl');
  sh('kiln predict (artifact copied out of the project)', process.execPath, [path.join(project, 'node_modules', '.bin', 'kiln'), 'predict', away, '--input', input, '--output', out, '--trust-manifest'], path.dirname(away));
  expect(fs.readFileSync(out, 'utf8').trim().split('\n')).toEqual(records.map((r) => JSON.stringify(r.output)));
}

/** A branch that changes only train.epochs: plan must re-run train (and what is below it), never report code changes. */
async function planOnParameterBranch(project: string): Promise<void> {
  await checkoutNewBranch(project, 'more-epochs');
  const file = path.join(project, 'pipelines', 'parameters.yaml');
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/epochs: \d+/, 'epochs: 55'));
  await commitAll(project, 'more epochs');
  const { stdout } = sh('kiln plan', 'npx', ['kiln', 'plan'], project);
  expect(stdout).toContain('  ~ train.epochs: 40 → 55');
  expect(stdout).toMatch(/will re-run:\n {4}train +parameter train\.epochs changed\n/);
  expect(stdout).not.toContain('code changed');
}

let tarball = '';
let newProject = '';

beforeAll(() => {
  const packed = tempDir('kiln-pack-');
  sh('npm pack', 'npm', ['pack', '--pack-destination', packed], repoRoot);
  tarball = path.join(packed, fs.readdirSync(packed).find((f) => f.endsWith('.tgz'))!);
}, 600_000);

afterAll(() => {
  console.log(`installed-package figures (seconds):\n${JSON.stringify(figures, null, 2)}`);
});

describe('kiln installed from its tarball into a new project', () => {
  it('npm install, kiln init (merging into what npm init wrote), npm install, kiln run', async () => {
    newProject = path.join(tempDir('kiln-installed-'), 'line-sensors');
    fs.mkdirSync(newProject);
    sh('npm init -y', 'npm', ['init', '-y'], newProject);
    sh('npm install <tarball> (new project; builds better-sqlite3)', 'npm', ['install', ...NPM_FLAGS, tarball], newProject, 1_200_000);
    expect(fs.existsSync(path.join(newProject, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'))).toBe(true);

    const init = sh('kiln init (new project)', 'npx', ['kiln', 'init'], newProject);
    expect(init.stdout).toContain('package.json: type: "module" (was "type": "commonjs")');
    const pkg = JSON.parse(fs.readFileSync(path.join(newProject, 'package.json'), 'utf8'));
    expect(pkg).toMatchObject({ type: 'module', allowScripts: { 'better-sqlite3': true }, dependencies: { '@tensorflow/tfjs': expect.any(String) }, devDependencies: { typescript: expect.any(String) } });
    expect(pkg.dependencies['kiln-ml']).toMatch(/^file:/);
    sh('npm install (after kiln init)', 'npm', ['install', ...NPM_FLAGS], newProject);

    await gitInit(newProject);
    await commitAll(newProject, 'kiln init');
    const run = sh('kiln run (new project)', 'npx', ['kiln', 'run'], newProject);
    expect(run.stdout + run.stderr).toMatch(/parity: 60 record\(s\) identical to training/);
    expect(run.stdout + run.stderr).toMatch(/run \w+ finished: 5 node\(s\)/);
  }, 1_500_000);

  it('kiln plan on a branch that changes a parameter re-runs what reads it, with kiln installed in node_modules', async () => {
    await planOnParameterBranch(newProject);
  }, 300_000);

  it('kiln predict with the artifact copied out of the project gives training\'s predictions', () => {
    predictAway(newProject, copyArtifactAway(newProject, 'line-sensors'));
  }, 300_000);
});

describe('kiln added to an existing TypeScript project', () => {
  let project = '';

  it('npm install of the tarball, kiln init merges (package.json, .gitignore; tsconfig kept), kiln run', async () => {
    expect(newProject, 'the new-project scenario installs first').not.toBe('');
    project = path.join(tempDir('kiln-existing-'), 'sensor-api');
    writeFiles(project, {
      'package.json': JSON.stringify({ name: 'sensor-api', version: '1.3.0', private: true, type: 'module', scripts: { build: 'tsc -p .', start: 'node src/server.ts' }, dependencies: { yaml: '^2.9.1' }, devDependencies: { typescript: '^5.9.3', '@types/node': '^20.19.43' } }, null, 2) + '\n',
      'tsconfig.json': JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', strict: true, noEmit: true, allowImportingTsExtensions: true, skipLibCheck: true }, include: ['src', 'pipelines', 'generated'] }, null, 2) + '\n',
      'src/server.ts': "import { parse } from 'yaml';\nexport const config = parse('port: 8080\\n') as { port: number };\n",
      '.gitignore': 'node_modules\n',
      'README.md': '# Sensor API\n',
    });
    // One build of better-sqlite3 for both scenarios: a hard-linked copy of the new project's node_modules.
    const t0 = performance.now();
    const linked = spawnSync('cp', ['-al', path.join(newProject, 'node_modules'), path.join(project, 'node_modules')]);
    if (linked.status !== 0) fs.cpSync(path.join(newProject, 'node_modules'), path.join(project, 'node_modules'), { recursive: true, verbatimSymlinks: true });
    figures['copy node_modules from the new project'] = Math.round(performance.now() - t0) / 1000;
    sh('npm install <tarball> (existing project, node_modules copied)', 'npm', ['install', ...NPM_FLAGS, tarball], project, 1_200_000);

    const init = sh('kiln init (existing project)', 'npx', ['kiln', 'init'], project);
    expect(init.stdout).toContain("added kiln project 'sensor-api' to the npm project in .");
    expect(init.stdout).toContain('  tsconfig.json: yours, kept\n');
    expect(init.stdout).toContain('  README.md: yours, kept\n');
    expect(init.stderr).not.toContain('KILN7033');
    const pkg = JSON.parse(fs.readFileSync(path.join(project, 'package.json'), 'utf8'));
    expect(pkg.scripts).toMatchObject({ build: 'tsc -p .', start: 'node src/server.ts', train: 'kiln run' });
    expect(pkg.dependencies).toMatchObject({ yaml: '^2.9.1', '@tensorflow/tfjs': expect.any(String), 'kiln-ml': expect.stringMatching(/^file:/) });
    expect(pkg.devDependencies).toEqual({ typescript: '^5.9.3', '@types/node': '^20.19.43' });
    expect(fs.readFileSync(path.join(project, 'README.md'), 'utf8')).toBe('# Sensor API\n');
    sh('npm install (existing project, after kiln init)', 'npm', ['install', ...NPM_FLAGS], project);

    // Inference through TensorFlow.js, which the artifact must carry with it (issue 14 item 3).
    const model = path.join(project, 'pipelines', 'classifier', 'model.ts');
    fs.writeFileSync(
      model,
      "import * as tf from '@tensorflow/tfjs';\n" +
        fs
          .readFileSync(model, 'utf8')
          .replace(
            /export function predict\(([^)]*)\): Prediction\[\] \{[\s\S]*$/,
            'export function predict($1): Prediction[] {\n' +
              '  const xs = args.readings.map((r) => scale(features(r), args.scaler));\n' +
              '  const p = tf.tidy(() => tf.sigmoid(tf.tensor2d(xs).matMul(tf.tensor2d(args.classifier.weights, [args.classifier.weights.length, 1])).add(args.classifier.bias)).dataSync());\n' +
              '  return args.readings.map((r, i) => ({ id: r.id ?? null, probability: p[i], faulty: p[i] >= args.threshold }));\n' +
              '}\n',
          ),
    );
    sh('kiln compile (existing project)', 'npx', ['kiln', 'compile'], project);
    await gitInit(project);
    await commitAll(project, 'kiln init');
    const run = sh('kiln run (existing project)', 'npx', ['kiln', 'run'], project);
    expect(run.stdout + run.stderr).toMatch(/parity: 60 record\(s\) identical to training/);
  }, 1_500_000);

  it('kiln plan on a branch that changes a parameter re-runs what reads it', async () => {
    await planOnParameterBranch(project);
  }, 300_000);

  // PENDING ISSUE 14 ITEM 3 (self-contained artifact, another engineer's work): fails until TensorFlow.js travels
  // inside the artifact; today model.mjs imports '@tensorflow/tfjs', which no node_modules around the copy holds.
  it('[needs issue 14 item 3] kiln predict with the TensorFlow.js artifact copied out of the project gives training\'s predictions', () => {
    predictAway(project, copyArtifactAway(project, 'sensor-api'));
  }, 300_000);
});
