// The IR remembered between runs (src/ir-cache.ts): reused only while every file, listing and path the analysis
// looked at answers the same, and while kiln's compiler code is the same; anything changed means analysing again.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeAndRememberIr, irCacheFile, recallIr } from '../../src/ir-cache.ts';
import { analyzeProject } from '../../src/project.ts';
import { copyProject } from '../helpers/project.ts';

const COMPILER = 'kiln test\ncompiler';

/** A copy of the mini fixture whose IR has been analysed and remembered once. */
async function remembered(): Promise<string> {
  const root = copyProject('mini');
  const analyzed = await analyzeAndRememberIr(root, COMPILER);
  expect(analyzed.ok).toBe(true);
  expect(fs.existsSync(irCacheFile(path.join(root, '.kiln')))).toBe(true);
  return root;
}

const edit = (root: string, rel: string, change: (text: string) => string) => fs.writeFileSync(path.join(root, rel), change(fs.readFileSync(path.join(root, rel), 'utf8')));

describe('the remembered IR', () => {
  it('is recalled for an unchanged project: the IR a fresh analysis resolves, with the texts it was resolved from', async () => {
    const root = await remembered();
    const fresh = await analyzeProject(root, { checks: false });
    const recalled = await recallIr(root, COMPILER);
    expect(recalled).not.toBeNull();
    expect(recalled!.ir).toEqual(fresh.ir);
    expect(Object.fromEntries(recalled!.sources)).toEqual(Object.fromEntries(fresh.loaded.sources));
    expect([...recalled!.sources.keys()]).toContain('pipelines/demo/nodes.ts');
  });

  it.each<[string, (root: string) => void]>([
    ['a parameter value changed', (root) => edit(root, 'pipelines/parameters.yaml', (t) => t.replace('scale: 2', 'scale: 3'))],
    ['kiln.yaml changed', (root) => edit(root, 'kiln.yaml', (t) => `${t}generated: gen\n`)],
    ['a node module changed', (root) => edit(root, 'pipelines/demo/nodes.ts', (t) => `${t}\nexport const added = 1;\n`)],
    ['a record schema changed', (root) => edit(root, 'pipelines/demo/numbers.schema.json', (t) => t.replace('"type"', ' "type"'))],
    ['a declaration file was added', (root) => fs.writeFileSync(path.join(root, 'pipelines', 'catalog.extra.yaml'), 'extra: { type: json, path: data/extra.json }\n')],
    ['a declaration file was removed', (root) => fs.rmSync(path.join(root, 'pipelines', 'demo', 'numbers.schema.json'))],
    ['package.json no longer says "type": "module"', (root) => fs.writeFileSync(path.join(root, 'package.json'), '{ "private": true }\n')],
    ['the generated folder became a file', (root) => fs.writeFileSync(path.join(root, 'generated'), 'not a folder')],
  ])('is not recalled once %s, and the next analysis sees the change', async (_what, change) => {
    const root = await remembered();
    change(root);
    expect(await recallIr(root, COMPILER)).toBeNull();
    const again = await analyzeAndRememberIr(root, COMPILER);
    const fresh = await analyzeProject(root, { checks: false });
    expect(again.diagnostics).toEqual(fresh.diagnostics);
    if (again.ok) expect((await recallIr(root, COMPILER))!.ir).toEqual(fresh.ir);
  });

  it('is not recalled by another kiln compiler, nor from a damaged file', async () => {
    const root = await remembered();
    expect(await recallIr(root, `${COMPILER} changed`)).toBeNull();
    const file = irCacheFile(path.join(root, '.kiln'));
    fs.writeFileSync(file, fs.readFileSync(file).subarray(0, 40));
    expect(await recallIr(root, COMPILER)).toBeNull();
    fs.writeFileSync(file, 'not a cache');
    expect(await recallIr(root, COMPILER)).toBeNull();
  });
});
