// The package as npm packs it: lib/ built with tsc's declarations (what `prepack` runs), in a folder with only the
// packed files (no src/). Its exports resolve to JavaScript and .d.ts files, a consumer's TypeScript type-checks
// against those declarations, and Node runs its JavaScript.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildKiln } from '../../scripts/build.ts';
import { repoRoot, tempDir, writeFiles } from '../helpers/project.ts';

type Exports = Record<string, string | Record<string, string>>;

const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { name: string; files: string[]; exports: Exports };
let pkg: string;
let consumer: string;

beforeAll(async () => {
  const dir = tempDir('kiln-packed-');
  pkg = path.join(dir, manifest.name);
  fs.mkdirSync(pkg);
  fs.copyFileSync(path.join(repoRoot, 'package.json'), path.join(pkg, 'package.json'));
  for (const f of manifest.files.filter((x) => x !== 'lib')) fs.cpSync(path.join(repoRoot, f), path.join(pkg, f), { recursive: true });
  await buildKiln({ outDir: path.join(pkg, 'lib'), declarations: true });
  // `npm pack` runs prepare (a development build) after prepack: it must keep the declarations.
  expect((await buildKiln({ outDir: path.join(pkg, 'lib') })).built).toBe(false);
  // kiln's own dependencies, as npm would install them beside it.
  fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(pkg, 'node_modules'), 'dir');

  consumer = path.join(dir, 'consumer');
  writeFiles(consumer, {
    'package.json': '{ "type": "module" }\n',
    // skipLibCheck off: kiln's declarations themselves are checked, as a strict consumer would see them.
    'tsconfig.json': JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] }, include: ['*.ts'] }),
    'use.ts': [
      "import { isKilnError, nodeContext, type Diagnostic } from 'kiln-ml';",
      "import { createRandom, stratifiedSplitIndices, type Random } from 'kiln-ml/ml';",
      'const random: Random = createRandom(7, "split");',
      'export const next: number = random.next();',
      'export const codeOf = (d: Diagnostic): string => d.code;',
      'export const check = (e: unknown): boolean => isKilnError(e);',
      'export const context = nodeContext;',
      'export const split = stratifiedSplitIndices;',
      '// Real types, not any: a wrong argument is an error.',
      '// @ts-expect-error a seed is a number or a string',
      'createRandom({ seed: 1 });',
      '',
    ].join('\n'),
  });
  fs.mkdirSync(path.join(consumer, 'node_modules', '@types'), { recursive: true });
  fs.symlinkSync(pkg, path.join(consumer, 'node_modules', manifest.name), 'dir');
  fs.symlinkSync(path.join(repoRoot, 'node_modules', '@types', 'node'), path.join(consumer, 'node_modules', '@types', 'node'), 'dir');
}, 240_000);

describe('the packed package', () => {
  it("resolves every export to an existing file: JavaScript for 'default', tsc's .d.ts for 'types'", () => {
    const targets = Object.entries(manifest.exports).flatMap(([sub, t]) => (typeof t === 'string' ? [[sub, 'default', t]] : Object.entries(t).map(([cond, f]) => [sub, cond, f])));
    expect(targets.map(([sub, cond]) => `${sub} ${cond}`)).toEqual(expect.arrayContaining(['. types', '. default', './ml types', './ml default']));
    for (const [sub, cond, file] of targets) {
      const abs = path.join(pkg, file);
      expect(fs.existsSync(abs), `${sub} (${cond}) → ${file}`).toBe(true);
      if (cond === 'types') expect(fs.readFileSync(abs, 'utf8'), file).not.toMatch(/src\//);
      if (cond === 'default' && sub !== './package.json') expect(file).toMatch(/^\.\/lib\/.*\.js$/);
    }
    expect(fs.existsSync(path.join(pkg, 'src'))).toBe(false);
  });

  it('type-checks a consumer importing kiln-ml and kiln-ml/ml against the declarations', () => {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    // TensorFlow.js's own declarations do not pass a strict check (its problem, not kiln's): everything else must.
    const errors = (r: { stdout: string }) => r.stdout.split('\n').filter((l) => /error TS/.test(l) && !l.includes('/node_modules/@tensorflow/'));
    const r = spawnSync(process.execPath, [tsc, '-p', consumer], { cwd: consumer, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(errors(r)).toEqual([]);
    // The same consumer with a type error fails: the check is not vacuous.
    fs.writeFileSync(path.join(consumer, 'wrong.ts'), "import { createRandom } from 'kiln-ml/ml';\nexport const n: string = createRandom(1).next();\n");
    const wrong = spawnSync(process.execPath, [tsc, '-p', consumer], { cwd: consumer, encoding: 'utf8' });
    fs.rmSync(path.join(consumer, 'wrong.ts'));
    expect(errors(wrong)).toEqual([expect.stringMatching(/^wrong\.ts\(2,14\): error TS2322/)]);
  });

  it('runs: Node imports kiln-ml and kiln-ml/ml from the build, and the bin prints its version', () => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', "const k = await import('kiln-ml'); const ml = await import('kiln-ml/ml'); console.log(typeof k.isKilnError, ml.createRandom(7).next() < 1)"], { cwd: consumer, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('function true\n');
    const v = spawnSync(process.execPath, [path.join(pkg, 'bin', 'kiln.js'), '--version'], { encoding: 'utf8' });
    expect(v.stdout).toBe(`${JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).version}\n`);
  });
});
