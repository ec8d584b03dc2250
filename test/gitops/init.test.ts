// `kiln init`: the scaffold is the flagship's layout, validates and type-checks against this kiln, never overwrites,
// and its GitHub workflow is valid YAML that calls only kiln commands (and options) that exist.
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
  const invocations = (run: string) => [...run.matchAll(/(?:^|[\s;&|(])(?:npx\s+)?kiln\s+([a-z][\w-]*)((?:\s+(?!>)[^\s;&|>]+)*)/g)].map((m) => ({ command: m[1], flags: (m[2].match(/--[\w-]+/g) ?? []) }));

  it('is valid YAML: validate, compile --check, plan and report on pull requests, run and publish on main', () => {
    const wf = parse(read('.github/workflows/kiln.yml')) as { on: Record<string, unknown>; jobs: Record<string, { steps: Array<{ name?: string; run?: string; if?: string; uses?: string }> }> };
    expect(Object.keys(wf.on)).toEqual(['pull_request', 'push']);
    expect(wf.on.push).toEqual({ branches: ['main'] });
    const steps = Object.values(wf.jobs).flatMap((j) => j.steps);
    const byCommand = new Map(steps.filter((s) => s.run).flatMap((s) => invocations(s.run!).map((i) => [i.command, s] as const)));
    expect([...byCommand.keys()]).toEqual(['validate', 'compile', 'plan', 'run', 'report', 'publish']);
    expect(byCommand.get('plan')!.if).toBe("github.event_name == 'pull_request'");
    expect(byCommand.get('report')!.run).toContain('>> "$GITHUB_STEP_SUMMARY"');
    expect(byCommand.get('report')!.if).toBe("github.event_name == 'pull_request'");
    expect(byCommand.get('publish')!.if).toBe("github.event_name == 'push'");
    expect(steps.find((s) => s.uses?.startsWith('actions/checkout'))).toMatchObject({ with: { 'fetch-depth': 0 } });
  });

  it('calls only kiln commands that exist, with options they have', async () => {
    const steps = (parse(read('.github/workflows/kiln.yml')) as { jobs: Record<string, { steps: Array<{ run?: string }> }> }).jobs;
    const calls = Object.values(steps).flatMap((j) => j.steps.flatMap((s) => (s.run ? invocations(s.run) : [])));
    expect(calls.length).toBeGreaterThan(5);
    for (const call of calls) {
      expect(commands.map((c) => c.name)).toContain(call.command);
      const help = await kilnHere([call.command, '--help'], root);
      expect(help.code, `kiln ${call.command} --help`).toBe(0);
      for (const flag of call.flags) expect(help.stdout, `kiln ${call.command} ${flag}`).toContain(flag);
    }
    const child = kiln(['publish', '--help'], root);
    expect(child.code).toBe(0);
  });
});
