// A node's code hash at run time counts the packages its code imports by their installed version: upgrading a
// dependency re-runs the nodes that import it (kiln plan predicts this from the lockfiles), and the remembered hash of
// unchanged files is not reused across the upgrade.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { NodeIR } from '../../src/ir/types.ts';
import { ObjectStoreTracker } from '../../src/runtime/cache.ts';
import { installedPackage, packageOf } from '../../src/runtime/installed-package.ts';
import { LocalObjectStore } from '../../src/tracking/objects.ts';

const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-package-versions-')));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const write = (rel: string, text: string) => {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  fs.writeFileSync(path.join(root, rel), text);
};
const manifest = (version: string) => `{ "name": "tiny-stats", "version": "${version}", "type": "module" }\n`;
const node = (module: string) => ({ func: { module } }) as NodeIR;
const stateFile = path.join(root, '.kiln', 'state.json');
/** A fresh tracker per run, as each `kiln run` has, sharing the state file that remembers code hashes. */
async function hashOf(module: string): Promise<string> {
  const tracker = new ObjectStoreTracker(root, null as never, new LocalObjectStore(path.join(root, '.kiln', 'objects')), stateFile);
  const h = await tracker.codeHash(node(module));
  await tracker.flush();
  return h;
}

it('changes when an imported package is upgraded, and only for the modules importing it', async () => {
  write('node_modules/tiny-stats/package.json', manifest('1.0.0'));
  write('node_modules/tiny-stats/index.js', 'export const mean = (xs) => xs.reduce((s, x) => s + x, 0) / xs.length;\n');
  write('pipelines/summarize.ts', "import { mean } from 'tiny-stats';\nimport os from 'node:os';\nexport const summarize = (xs: number[]) => ({ mean: mean(xs), host: os.hostname() });\n");
  write('pipelines/scale.ts', 'export const scale = (xs: number[]) => xs.map((x) => x * 2);\n');
  const before = { summarize: await hashOf('pipelines/summarize.ts'), scale: await hashOf('pipelines/scale.ts') };
  expect(await hashOf('pipelines/summarize.ts')).toBe(before.summarize);

  write('node_modules/tiny-stats/package.json', manifest('1.1.0'));
  expect(await hashOf('pipelines/summarize.ts')).not.toBe(before.summarize);
  expect(await hashOf('pipelines/scale.ts')).toBe(before.scale);
  write('node_modules/tiny-stats/package.json', manifest('1.0.0'));
  expect(await hashOf('pipelines/summarize.ts')).toBe(before.summarize);
});

it('finds packages as Node does, and tells packages from paths and built-ins', () => {
  expect([packageOf('@tensorflow/tfjs'), packageOf('@tensorflow/tfjs-core/dist/x.js'), packageOf('kiln-ml/ml'), packageOf('node:fs'), packageOf('fs'), packageOf('./x.ts'), packageOf('/abs/x.js')]).toEqual(['@tensorflow/tfjs', '@tensorflow/tfjs-core', 'kiln-ml', null, null, null, null]);
  expect(installedPackage(path.join(root, 'pipelines', 'deep'), 'tiny-stats')).toEqual({ version: '1.0.0', manifest: path.join(root, 'node_modules', 'tiny-stats', 'package.json') });
  expect(installedPackage(root, 'not-there')).toBeNull();
});
