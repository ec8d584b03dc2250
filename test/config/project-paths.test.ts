// kiln.yaml paths and the files declarations point at are confined to the project by where they really lead:
// a symbolic link out of the project is refused (KILN1019), whether kiln would write through it (generated, store)
// or read and run code through it (run modules, hooks, record schemas). Also publish.target: plain paths confined,
// URLs left to the publish backend when it can read them (KILN1027 otherwise).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeProject } from '../../src/project.ts';
import { makeProject, tempDir } from '../helpers/project.ts';
import { runMain } from '../helpers/cli.ts';

const pipeline = (run: string) => `pipeline: demo\nnodes:\n  - name: make\n    run: ${run}\n    outputs: numbers\n`;
const nodes = 'export function make(): number[] {\n  return [1, 2, 3];\n}\n';

function project(kiln: string, files: Record<string, string> = {}): string {
  return makeProject({ 'kiln.yaml': kiln, 'pipelines/demo/pipeline.yaml': pipeline('./nodes.ts#make'), 'pipelines/demo/nodes.ts': nodes, ...files });
}

const codes = async (root: string) => (await analyzeProject(root)).diagnostics.map((d) => `${d.code} ${d.location?.file}:${d.location?.line}`);

describe('symbolic links out of the project', () => {
  it('refuses generated: and store: folders that are links to outside, and writes nothing there', async () => {
    const outside = tempDir('kiln-outside-');
    const root = project('name: links\ngenerated: gen\nstore: st\n');
    fs.symlinkSync(outside, path.join(root, 'gen'));
    fs.symlinkSync(outside, path.join(root, 'st'));
    expect(await codes(root)).toEqual(['KILN1019 kiln.yaml:2', 'KILN1019 kiln.yaml:3']);
    const r = await runMain(['compile', '--no-typecheck', '--project', root], { cwd: root });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`path 'gen' leads outside the project through a symbolic link (it resolves to ${outside})`);
    expect(fs.readdirSync(outside)).toEqual([]);
  });

  it('refuses a folder below a link (generated: ext/gen with ext a link), which does not exist yet', async () => {
    const outside = tempDir('kiln-outside-');
    const root = project('name: links\ngenerated: ext/gen\n');
    fs.symlinkSync(outside, path.join(root, 'ext'));
    expect(await codes(root)).toEqual(['KILN1019 kiln.yaml:2']);
  });

  it('refuses a hook module reached through a link', async () => {
    const outside = tempDir('kiln-outside-');
    fs.writeFileSync(path.join(outside, 'hook.ts'), 'export const h = {};\n');
    const root = project('name: links\nhooks:\n  - ./ext/hook.ts#h\n');
    fs.symlinkSync(outside, path.join(root, 'ext'));
    expect(await codes(root)).toEqual(['KILN1019 kiln.yaml:3']);
  });

  it('refuses a run module and a record schema reached through a link, at their declarations, and reads neither', async () => {
    const outside = tempDir('kiln-outside-');
    fs.writeFileSync(path.join(outside, 'x.ts'), nodes);
    fs.writeFileSync(path.join(outside, 'row.schema.json'), '{ "type": "array" }\n');
    const root = makeProject({
      'kiln.yaml': 'name: links\n',
      'pipelines/catalog.yaml': 'numbers:\n  type: json\n  path: data/numbers.json\n  schema: ./ext/row.schema.json\n',
      'pipelines/demo/pipeline.yaml': pipeline('./ext/x.ts#make'),
    });
    fs.symlinkSync(outside, path.join(root, 'pipelines', 'ext'));
    fs.symlinkSync(outside, path.join(root, 'pipelines', 'demo', 'ext'));
    const analyzed = await analyzeProject(root);
    expect(analyzed.diagnostics.map((d) => `${d.code} ${d.location?.file}:${d.location?.line}`)).toEqual(['KILN1019 pipelines/catalog.yaml:4', 'KILN1019 pipelines/demo/pipeline.yaml:4']);
    expect([...analyzed.loaded.sources.keys()].filter((f) => f.includes('ext/'))).toEqual([]);
    expect(new Set(analyzed.diagnostics.map((d) => d.code))).toEqual(new Set(['KILN1019']));
  });

  it('accepts links that stay inside the project', async () => {
    const root = project('name: links\ngenerated: gen\n', { 'real/.keep': '' });
    fs.symlinkSync(path.join(root, 'real'), path.join(root, 'gen'));
    expect(await codes(root)).toEqual([]);
  });
});

describe('publish.target', () => {
  it.each([['/etc/passwd'], ['../..'], ['dist/../../x']])('refuses the plain path %s outside the project', async (target) => {
    expect(await codes(project(`name: pub\npublish:\n  target: ${target}\n`))).toEqual(['KILN1013 kiln.yaml:3']);
  });

  it.each([
    ['s3://bucket/models', 'the scheme s3:// has no publish backend'],
    ['oci://ghcr.io/Acme/models', "the repository path component 'Acme' is not lowercase"],
    ['oci://ghcr.io', 'names no repository'],
    ['oci://ghcr.io/acme/scorer:production', 'without a tag or digest'],
  ])('refuses the URL %s with KILN1027 at its line, saying why', async (target, why) => {
    const root = project(`name: pub\npublish:\n  target: ${target}\n`);
    expect(await codes(root)).toEqual(['KILN1027 kiln.yaml:3']);
    expect((await analyzeProject(root)).diagnostics.find((d) => d.code === 'KILN1027')?.message).toContain(why);
  });

  it('accepts a folder inside the project, one under paths.allow, and a URL (left to the publish backend)', async () => {
    const shared = tempDir('kiln-shared-');
    expect(await codes(project('name: pub\npublish:\n  target: dist/models\n'))).toEqual([]);
    expect(await codes(project(`name: pub\npaths:\n  allow: [${shared}]\npublish:\n  target: ${shared}/models\n`))).toEqual([]);
    expect(await codes(project('name: pub\npublish:\n  target: oci://registry.example/models\n'))).toEqual([]);
    expect(await codes(project('name: pub\npublish:\n  target: oci://127.0.0.1:5000/acme/scorer\n'))).toEqual([]);
  });
});
