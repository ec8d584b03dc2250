// Imports of kiln itself in node code ('kiln-ml', 'kiln-ml/ml') bundle the kiln code that runs: the build (lib/*.js)
// when kiln runs from it, as the bin does, and the sources only when kiln itself runs from them (these tests).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { kilnSelf, kilnCodeDir } from '../../src/runtime/kiln-self.ts';
import { repoRoot } from '../helpers/project.ts';

const entry = "import { createRandom } from 'kiln-ml/ml';\nimport { isKilnError } from 'kiln-ml';\nexport const x = [createRandom, isKilnError];\n";

/** The kiln files (relative to the repository) that esbuild bundles for `entry` through the plugin of the given kiln-self module. */
const script = (selfModule: string) => `
import { build } from 'esbuild';
const { kilnSelf } = await import(${JSON.stringify(pathToFileURL(selfModule).href)});
const r = await build({ stdin: { contents: ${JSON.stringify(entry)}, resolveDir: ${JSON.stringify(repoRoot)}, loader: 'js' }, bundle: true, write: false, metafile: true, format: 'esm', platform: 'node', packages: 'external', plugins: [kilnSelf], logLevel: 'silent' });
console.log(JSON.stringify(Object.keys(r.metafile.inputs)));
`;

describe('kiln-self', () => {
  it('resolves kiln-ml to the build when kiln runs from lib/', () => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script(path.join(repoRoot, 'lib', 'runtime', 'kiln-self.js'))], { cwd: repoRoot, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const inputs = JSON.parse(r.stdout) as string[];
    expect(inputs).toEqual(expect.arrayContaining(['lib/index.js', 'lib/ml/index.js', 'lib/ml/random.js']));
    expect(inputs.filter((f) => !f.startsWith('lib/') && f !== '<stdin>')).toEqual([]);
  });

  it('resolves kiln-ml to the sources when kiln runs from src/', async () => {
    expect(kilnCodeDir).toBe(path.join(repoRoot, 'src'));
    const r = await build({ stdin: { contents: entry, resolveDir: repoRoot, loader: 'js' }, bundle: true, write: false, metafile: true, format: 'esm', platform: 'node', packages: 'external', plugins: [kilnSelf], logLevel: 'silent' });
    const inputs = Object.keys(r.metafile.inputs).map((f) => path.relative(repoRoot, path.resolve(f)));
    expect(inputs).toEqual(expect.arrayContaining(['src/index.ts', 'src/ml/index.ts', 'src/ml/random.ts']));
    expect(inputs.filter((f) => f.startsWith('lib'))).toEqual([]);
  });
});
