// The Math.random trap of the parity replay, on a bundle laid out as an artifact's is (esbuild, packages carried in
// it): a package that seeds itself from Math.random while its module is set up is allowed, as TensorFlow.js's
// seedrandom does; the project's code calling it, directly or through a package, is refused and named.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterEach, describe, expect, it } from 'vitest';
import { trapMathRandom } from '../../src/artifact/random-trap.ts';
import { INFERENCE_BUNDLE } from '../../src/artifact/bundle.ts';
import { makeProject } from '../helpers/project.ts';

const realRandom = Math.random;
afterEach(() => {
  Math.random = realRandom;
});

async function bundled(): Promise<string> {
  const root = makeProject({
    'node_modules/seeded/package.json': '{ "name": "seeded", "main": "index.js" }',
    // As seedrandom: mixes Math.random into its pool when loaded, and offers an unseeded draw.
    'node_modules/seeded/index.js': 'var pool = Math.random();\nexports.pool = pool;\nexports.draw = function draw() { return Math.random(); };\n',
    'pipelines/nodes.ts': [
      "import { draw } from 'seeded';",
      'export function seededOnly(rows: number[]): number[] { return rows.map((x) => x * 2); }',
      'export function noisy(rows: number[]): number[] { return rows.map((x) => x + Math.random()); }',
      'export function throughPackage(rows: number[]): number[] { return rows.map((x) => x + draw()); }',
      // A dynamic import makes esbuild wrap modules in lazy set-up functions named after their paths.
      "export async function lazily(): Promise<number> { return (await import('./late.ts')).late; }",
    ].join('\n'),
    'pipelines/late.ts': "import { pool } from 'seeded';\nexport const late = pool > 2 ? 1 : 0;\n",
  });
  const result = await build({ entryPoints: [path.join(root, 'pipelines', 'nodes.ts')], absWorkingDir: root, ...INFERENCE_BUNDLE, banner: { js: "import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);" } });
  const file = path.join(root, 'model.mjs');
  fs.writeFileSync(file, result.outputFiles[0].text);
  return file;
}

describe('the Math.random trap', () => {
  it("allows a carried package's own set-up, refuses the project's calls and names them", async () => {
    const file = await bundled();
    const trap = trapMathRandom(file);
    const m = (await import(pathToFileURL(file).href)) as { seededOnly: (r: number[]) => number[]; noisy: (r: number[]) => number[]; throughPackage: (r: number[]) => number[]; lazily: () => Promise<number> };
    expect(await m.lazily()).toBe(0);
    expect(m.seededOnly([1, 2])).toEqual([2, 4]);
    expect(trap.first()).toBeNull();
    expect(() => m.throughPackage([1])).toThrow(/Math.random is refused/);
    expect(trap.first()).toEqual({ file: 'pipelines/nodes.ts', fn: 'throughPackage' });
  });

  it('names the project function that calls it directly', async () => {
    const file = await bundled();
    const trap = trapMathRandom(file);
    const m = (await import(pathToFileURL(file).href)) as { noisy: (r: number[]) => number[] };
    expect(() => m.noisy([1])).toThrow(/Math.random is refused/);
    expect(trap.first()).toEqual({ file: 'pipelines/nodes.ts', fn: 'noisy' });
  });
});
