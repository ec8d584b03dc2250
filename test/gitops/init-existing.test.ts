// `kiln init` in an existing npm project: package.json and .gitignore gain what kiln needs (and nothing of the team's
// is replaced), README.md and tsconfig.json are kept (the latter checked), any other file in the way is a located
// refusal unless --force, and a CommonJS package is not silently turned into an ES module one.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { kilnVersion } from '../../src/version.ts';
import { kilnHere, linkKiln, tempDir, writeFiles } from './support.ts';

const PACKAGE = `{
    "name": "sensor-service",
    "version": "1.4.0",
    "type": "module",
    "scripts": {
        "compile": "tsc -p .",
        "test": "node --test"
    },
    "dependencies": {
        "yaml": "^2.9.1"
    },
    "devDependencies": {
        "typescript": "^5.8.0"
    }
}
`;
const TSCONFIG = '{\n  "compilerOptions": { "module": "NodeNext", "strict": true, "noEmit": true, "allowImportingTsExtensions": true }\n}\n';

function existingProject(files: Record<string, string> = {}): string {
  const root = path.join(tempDir('kiln-init-existing-'), 'sensor-service');
  writeFiles(root, { 'package.json': PACKAGE, 'tsconfig.json': TSCONFIG, 'src/server.ts': 'export const port = 8080;\n', '.gitignore': 'node_modules\n/dist\n', 'README.md': '# Sensor service\n', ...files });
  return root;
}
const read = (root: string, rel: string) => fs.readFileSync(path.join(root, rel), 'utf8');

describe('kiln init in an existing npm project', () => {
  it("merges package.json and .gitignore, keeps the team's files, says what it changed, and the project compiles under the team's tsconfig", async () => {
    const root = existingProject();
    const r = await kilnHere(['init'], root);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const pkg = JSON.parse(read(root, 'package.json'));
    expect(pkg).toEqual({
      name: 'sensor-service',
      version: '1.4.0',
      type: 'module',
      scripts: { compile: 'tsc -p .', test: 'node --test', validate: 'kiln validate', 'kiln:compile': 'kiln compile', train: 'kiln run', plan: 'kiln plan' },
      dependencies: { yaml: '^2.9.1', 'kiln-ml': `^${kilnVersion}`, '@tensorflow/tfjs': '^4.22.0' },
      // The team's TypeScript stays at the version they chose.
      devDependencies: { typescript: '^5.8.0' },
      allowScripts: { 'better-sqlite3': true },
    });
    expect(read(root, 'package.json')).toMatch(/^\{\n {4}"name"/);
    expect(read(root, '.gitignore')).toBe('node_modules\n/dist\n\n# kiln: the run store, what runs write, published artifacts\n.kiln/\ndata/models/\ndata/outputs/\n');
    expect(read(root, 'README.md')).toBe('# Sensor service\n');
    expect(read(root, 'tsconfig.json')).toBe(TSCONFIG);
    expect(read(root, 'src/server.ts')).toBe('export const port = 8080;\n');
    expect(r.stdout).toContain("added kiln project 'sensor-service' to the npm project in .\n");
    expect(r.stdout).toContain(`  package.json: dependencies: added kiln-ml ^${kilnVersion}, @tensorflow/tfjs ^4.22.0\n`);
    expect(r.stdout).toContain('  package.json: scripts: added validate, kiln:compile (scripts.compile is yours), train, plan\n');
    expect(r.stdout).toContain('  package.json: allowScripts: approved better-sqlite3');
    expect(r.stdout).toContain('  .gitignore: added .kiln/, data/models/, data/outputs/\n');
    expect(r.stdout).toContain('  README.md: yours, kept\n');
    expect(r.stdout).toContain('  tsconfig.json: yours, kept\n');
    expect(r.stdout).toContain('new files: 16\n');

    // generated/ type-checks under the team's tsconfig.json ("module": "NodeNext" without moduleResolution).
    linkKiln(root);
    const c = await kilnHere(['compile', '--check'], root);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stderr).toContain('generated/ is up to date');

    // Again: nothing left to add, nothing rewritten.
    const again = await kilnHere(['init'], root);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('  .gitignore: ignores everything kiln writes already\n');
    expect(again.stdout).toContain('  package.json: has everything kiln needs\n');
    expect(again.stdout).toContain('new files: 0\n');
  });

  it('refuses to turn a CommonJS package into an ES module one while .js files depend on it (KILN7032); --force does it and says so', async () => {
    const root = existingProject({ 'package.json': PACKAGE.replace('    "type": "module",\n', ''), 'lib/legacy.js': "module.exports = require('node:os').hostname;\n" });
    const r = await kilnHere(['init'], root);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('package.json:1:1 error KILN7032: package.json has no "type" (CommonJS), and "type": "module" would change what these files mean: lib/legacy.js');
    expect(r.stderr).toContain('kiln init <dir>');
    expect(read(root, 'package.json')).toBe(PACKAGE.replace('    "type": "module",\n', ''));
    expect(fs.existsSync(path.join(root, 'kiln.yaml'))).toBe(false);

    const forced = await kilnHere(['init', '--force'], root);
    expect(forced.code, forced.stderr).toBe(0);
    expect(JSON.parse(read(root, 'package.json')).type).toBe('module');
    expect(forced.stdout).toContain('package.json: type: "module" (was no "type" (CommonJS); --force: lib/legacy.js now load as ES modules)');
  });

  it('an explicit "type": "commonjs" with no CommonJS file (what npm init writes) becomes "module"; the package names the project', async () => {
    const root = existingProject({ 'package.json': '{\n  "name": "@acme/fresh",\n  "version": "1.0.0",\n  "type": "commonjs"\n}\n' });
    const r = await kilnHere(['init'], root);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("added kiln project 'acme-fresh' to the npm project in .");
    expect(read(root, 'kiln.yaml')).toContain('name: acme-fresh\n');
    expect(JSON.parse(read(root, 'package.json'))).toMatchObject({ type: 'module', devDependencies: { typescript: '^5.9.3' } });
    expect(r.stdout).toContain('package.json: type: "module" (was "type": "commonjs")');
  });

  it('a file of the project in the way is a located refusal naming it; --force replaces it, package.json still merged', async () => {
    const root = existingProject({ 'kiln.yaml': 'name: mine\n', 'pipelines/parameters.yaml': 'seed: 1\n' });
    const r = await kilnHere(['init'], root);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('kiln.yaml:1:1 error KILN7017: kiln init would overwrite 2 existing file(s): kiln.yaml, pipelines/parameters.yaml');
    expect(read(root, 'package.json')).toBe(PACKAGE);
    expect(fs.existsSync(path.join(root, 'pipelines/catalog.yaml'))).toBe(false);
    const forced = await kilnHere(['init', '--force'], root);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toContain('  kiln.yaml: replaced (--force)\n');
    expect(read(root, 'kiln.yaml')).toContain('name: sensor-service\n');
    expect(JSON.parse(read(root, 'package.json')).scripts.compile).toBe('tsc -p .');
  });

  it('a package.json that is not JSON is a located refusal (KILN7031)', async () => {
    const root = existingProject({ 'package.json': '{\n  "name": "x",\n}\n' });
    const r = await kilnHere(['init'], root);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/package\.json:3:1 error KILN7031: cannot add kiln to package\.json: /);
    expect(fs.existsSync(path.join(root, 'kiln.yaml'))).toBe(false);
  });

  it('warns, with the fix, about a kept tsconfig.json that cannot resolve kiln-ml/ml or import .ts files (KILN7033)', async () => {
    const root = existingProject({ 'tsconfig.json': '{\n  "compilerOptions": {\n    "module": "commonjs",\n    "outDir": "dist"\n  },\n  "include": ["src"]\n}\n', 'package.json': PACKAGE });
    const r = await kilnHere(['init'], root);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("tsconfig.json:3:5 warning KILN7033: tsconfig.json is kept as it is, but its module resolution (Node10) ignores package \"exports\", so 'kiln-ml/ml' does not resolve and kiln compile fails; allowImportingTsExtensions is off");
    expect(r.stderr).toContain('"include" does not cover pipelines/ and generated/');
    expect(r.stderr).toContain('hint: Add to tsconfig.json: "module": "NodeNext", "moduleResolution": "NodeNext" (or "Bundler")');
    expect(read(root, 'tsconfig.json')).toContain('"module": "commonjs"');
  });

  it('warns when the project denies the run store binding its install script (KILN7034), and keeps the denial', async () => {
    const root = existingProject({ 'package.json': PACKAGE.replace('"type": "module",', '"type": "module",\n    "allowScripts": { "better-sqlite3": false },') });
    const r = await kilnHere(['init'], root);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/package\.json:\d+:\d+ warning KILN7034: allowScripts\.better-sqlite3 is false in package\.json, so npm will not build better-sqlite3/);
    expect(JSON.parse(read(root, 'package.json')).allowScripts).toEqual({ 'better-sqlite3': false });
  });
});
