// What a command loads, observed from outside kiln: `node --import test/helpers/record-modules.mjs bin/kiln.js …`
// records every module URL Node resolves. The bin runs the build (lib/); tsx is loaded only to import a project's
// TypeScript, and heavy packages only by the commands that use them.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { kilnVersion } from '../../src/version.ts';
import { copyProject, repoRoot, tempDir } from '../helpers/project.ts';

const recorder = path.join(repoRoot, 'test', 'helpers', 'record-modules.mjs');

/** Runs `kiln <args>` in `cwd` and returns its result with the module URLs it loaded. */
function kilnLoading(args: string[], cwd: string) {
  const list = path.join(tempDir('kiln-modules-'), 'modules.txt');
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', KILN_RECORD_MODULES: list };
  for (const k of ['FORCE_COLOR', 'VITEST', 'VITEST_WORKER_ID', 'VITEST_POOL_ID']) delete env[k];
  const r = spawnSync(process.execPath, ['--import', recorder, path.join(repoRoot, 'bin', 'kiln.js'), ...args], { cwd, env, encoding: 'utf8', timeout: 120_000 });
  const modules = fs.existsSync(list) ? fs.readFileSync(list, 'utf8').trim().split('\n') : [];
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, modules };
}

/** The packages (node_modules/<name>) among the loaded modules. */
const packagesOf = (modules: string[]) => [...new Set(modules.flatMap((u) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1] ?? []))].sort();
const kilnModules = (modules: string[]) => modules.filter((u) => u.startsWith(`file://${repoRoot}/`) && !u.includes('/node_modules/')).map((u) => u.slice(`file://${repoRoot}/`.length));

const HEAVY = ['tsx', 'typescript', 'esbuild', 'handlebars', 'isomorphic-git', 'better-sqlite3', '@tensorflow/tfjs', '@tensorflow/tfjs-core', 'json-schema-to-typescript', 'prettier'];

describe('what each command loads', () => {
  it('kiln --version runs the built CLI and loads no package at all (no tsx, not even the argument parser)', () => {
    const r = kilnLoading(['--version'], repoRoot);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${kilnVersion}\n`);
    expect(kilnModules(r.modules)).toContain('lib/cli/main.js');
    expect(kilnModules(r.modules).filter((m) => m.startsWith('src/'))).toEqual([]);
    expect(packagesOf(r.modules)).toEqual([]);
  });

  it('kiln validate, run, runs list: tsx only where the project’s TypeScript is imported, heavy packages only where used', () => {
    const root = copyProject('mini');
    const validate = kilnLoading(['validate'], root);
    expect(validate.code, validate.stderr).toBe(0);
    expect(kilnModules(validate.modules)).toContain('lib/cli/validate.js');
    // esbuild reads the node modules' exports (a child process: cheap to load); the TypeScript compiler is not loaded.
    expect(packagesOf(validate.modules).filter((p) => HEAVY.includes(p) && p !== 'esbuild')).toEqual([]);

    // The positive control: the observable sees tsx when a run imports the project's node code.
    const run = kilnLoading(['run'], root);
    expect(run.code, run.stderr).toBe(0);
    expect(packagesOf(run.modules)).toContain('tsx');
    expect(run.modules.some((u) => u.endsWith('/pipelines/demo/nodes.ts'))).toBe(true);
    // The git stamp ran, but isomorphic-git was required, not imported: the ES module loader's scan of its CommonJS
    // exports tripled what loading it cost (src/tracking/isomorphic-git.ts).
    expect(kilnModules(run.modules)).toEqual(expect.arrayContaining(['lib/tracking/git.js', 'lib/tracking/isomorphic-git.js']));
    expect(packagesOf(run.modules)).not.toContain('isomorphic-git');

    const list = kilnLoading(['runs', 'list'], root);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/FINISHED/);
    expect(packagesOf(list.modules)).toContain('better-sqlite3');
    expect(packagesOf(list.modules).filter((p) => HEAVY.includes(p) && p !== 'better-sqlite3')).toEqual([]);
  });

  it('a second kiln validate reuses its verdicts on record schemas and node modules (no esbuild, no ajv compiler), and judges edited files afresh', () => {
    const root = copyProject('mini');
    // ajv is CommonJS, required outside the loader hooks on Node 20: Node's own module debug log names what it loads.
    const ajvCompilerLoaded = () => {
      const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', NODE_DEBUG: 'module' };
      for (const k of ['FORCE_COLOR', 'VITEST', 'VITEST_WORKER_ID', 'VITEST_POOL_ID']) delete env[k];
      const r = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'kiln.js'), 'validate'], { cwd: root, env, encoding: 'utf8', timeout: 120_000 });
      expect(r.status, r.stderr).toBe(0);
      return r.stderr.includes('/node_modules/ajv/dist/ajv.js');
    };
    const first = kilnLoading(['validate'], root);
    expect(first.code, first.stderr).toBe(0);
    // The positive control: the first validate judges, with esbuild (and ajv, seen on a fresh store below).
    expect(packagesOf(first.modules)).toContain('esbuild');
    const again = kilnLoading(['validate'], root);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toBe('valid: 1 pipeline(s), 2 node(s), 2 catalog entries\n');
    expect(packagesOf(again.modules)).not.toContain('esbuild');
    // The YAML parser is the copy the build carries as one module (scripts/build.ts), not the package's 70 files; and
    // the unchanged declarations are not even parsed again (the remembered IR, src/ir-cache.ts).
    expect(packagesOf(first.modules)).not.toContain('yaml');
    expect(kilnModules(first.modules)).toContain('lib/vendor/yaml.js');
    expect(packagesOf(again.modules)).not.toContain('yaml');
    expect(kilnModules(again.modules)).not.toContain('lib/vendor/yaml.js');
    expect(ajvCompilerLoaded()).toBe(false);
    // The record schemas' verdicts also travel in the remembered IR: without it, the verdicts alone still spare ajv;
    // without both, the schemas are judged again.
    fs.rmSync(path.join(root, '.kiln', 'cache', 'ir.bin'));
    expect(ajvCompilerLoaded()).toBe(false);
    fs.rmSync(path.join(root, '.kiln', 'cache', 'ir.bin'));
    fs.rmSync(path.join(root, '.kiln', 'cache', 'text-verdicts.json'));
    expect(ajvCompilerLoaded()).toBe(true);

    // A damaged file only costs the judging again.
    fs.writeFileSync(path.join(root, '.kiln', 'cache', 'text-verdicts.json'), '{"verdicts": {"not json');
    expect(kilnLoading(['validate'], root).code).toBe(0);

    // Edited files are judged again, not answered from the remembered verdicts.
    const schemaFile = path.join(root, 'pipelines', 'demo', 'numbers.schema.json');
    const schema = fs.readFileSync(schemaFile, 'utf8');
    fs.writeFileSync(schemaFile, '{ "type": "nope" }\n');
    const badSchema = kilnLoading(['validate'], root);
    expect(badSchema.code).toBe(1);
    expect(badSchema.stderr).toContain("error KILN1012: record schema './demo/numbers.schema.json' of dataset 'numbers' cannot be used: it is not a valid JSON Schema");
    fs.writeFileSync(schemaFile, schema);
    const nodesFile = path.join(root, 'pipelines', 'demo', 'nodes.ts');
    fs.writeFileSync(nodesFile, fs.readFileSync(nodesFile, 'utf8').replace('export function scale(', 'export function scaled('));
    const badExport = kilnLoading(['validate'], root);
    expect(badExport.code).toBe(1);
    expect(badExport.stderr).toContain('KILN2006');
    expect(packagesOf(badExport.modules)).toContain('esbuild');
  });

  it('a kiln run that skips every node imports none of the project’s code and no tsx, and parses no declaration', () => {
    const root = copyProject('mini');
    const projectCode = (modules: string[]) => modules.filter((u) => u.startsWith(`file://${root}/`)).map((u) => u.slice(`file://${root}/`.length));
    // The positive control: a first run executes both nodes, through the generated module and tsx.
    const first = kilnLoading(['run'], root);
    expect(first.code, first.stderr).toBe(0);
    expect(projectCode(first.modules)).toEqual(expect.arrayContaining(['generated/demo.ts', 'pipelines/demo/nodes.ts']));
    expect(packagesOf(first.modules)).toContain('tsx');

    const cached = kilnLoading(['run'], root);
    expect(cached.code, cached.stderr).toBe(0);
    expect(cached.stderr).toContain('finished: 2 node(s), all skipped as unchanged');
    expect(projectCode(cached.modules)).toEqual([]);
    expect(packagesOf(cached.modules)).not.toContain('tsx');
    // Nor are the declarations parsed again: the IR is recalled (src/ir-cache.ts), so the YAML parser and the schema
    // validators stay unloaded; the first run, which analysed them, loaded the parser.
    expect(kilnModules(first.modules)).toContain('lib/vendor/yaml.js');
    expect(kilnModules(cached.modules).filter((m) => m === 'lib/vendor/yaml.js' || m.startsWith('lib/config/validate'))).toEqual([]);
    expect(packagesOf(cached.modules).filter((p) => p.startsWith('csv-'))).toEqual([]);
  });

  it('a missing build is a one-line instruction, not a stack trace', () => {
    const pkg = tempDir('kiln-unbuilt-');
    fs.mkdirSync(path.join(pkg, 'bin'));
    fs.copyFileSync(path.join(repoRoot, 'bin', 'kiln.js'), path.join(pkg, 'bin', 'kiln.js'));
    fs.writeFileSync(path.join(pkg, 'package.json'), '{ "type": "module" }\n');
    const r = spawnSync(process.execPath, [path.join(pkg, 'bin', 'kiln.js'), '--version'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`kiln is not built: run \`npm run build\` in ${pkg}/\n`);
  });
});
