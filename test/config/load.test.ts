// Loading a project: which files are declarations, defaults filled in one place, referenced files captured.
import { describe, expect, it } from 'vitest';
import { classify, joinRel, loadProject } from '../../src/config/load.ts';
import { normalizeProject } from '../../src/config/defaults.ts';
import { memoryHost } from '../helpers/project.ts';

describe('classify', () => {
  it.each([
    ['pipelines/catalog.yaml', 'catalog'],
    ['pipelines/catalog.local.yml', 'catalog'],
    ['pipelines/sub/catalog.yaml', 'catalog'],
    ['pipelines/parameters.yaml', 'parameters'],
    ['pipelines/parameters.prod.yaml', 'parameters'],
    ['pipelines/spam/pipeline.yaml', 'pipeline'],
    ['pipelines/spam/train.pipeline.yml', 'pipeline'],
    ['pipelines/spam/nodes.ts', null],
    ['pipelines/spam/notes.yaml', null],
    ['pipelines/my-catalog.yaml', null],
    ['other/catalog.yaml', null],
    ['pipelinesx/catalog.yaml', null],
  ])('%s is %s', (file, kind) => {
    expect(classify(file, 'pipelines')).toBe(kind);
  });

  it('takes every folder when declarations live at the root', () => {
    expect(classify('catalog.yaml', '.')).toBe('catalog');
    expect(classify('a/b/pipeline.yaml', '.')).toBe('pipeline');
  });
});

describe('joinRel', () => {
  it.each([
    ['pipelines/spam/pipeline.yaml', './nodes.ts', 'pipelines/spam/nodes.ts'],
    ['pipelines/spam/pipeline.yaml', '../shared/nodes.ts', 'pipelines/shared/nodes.ts'],
    ['pipelines/catalog.yaml', './spam/schemas/email.schema.json', 'pipelines/spam/schemas/email.schema.json'],
    ['pipelines/catalog.yaml', '../../outside.json', '../outside.json'],
  ])('%s + %s = %s', (from, ref, want) => {
    expect(joinRel(from, ref)).toBe(want);
  });
});

describe('normalizeProject', () => {
  it('fills every default in one place', () => {
    expect(normalizeProject({ name: 'p' }, '/root')).toEqual({
      name: 'p',
      root: '/root',
      pipelinesDir: 'pipelines',
      generatedDir: 'generated',
      storeDir: '.kiln',
      mainBranch: 'main',
      backend: 'auto',
      allowedPaths: [],
      hooks: [],
      publish: { target: null },
      objects: null,
    });
  });

  it('cleans folder names and splits hook references', () => {
    const s = normalizeProject({ name: 'p', pipelines: './decl/', generated: 'out\\gen', paths: { allow: ['../data'] }, hooks: ['./hooks/./track.ts#tracker'], publish: { target: 'dist/' } }, '/work/root');
    expect(s.pipelinesDir).toBe('decl');
    expect(s.generatedDir).toBe('out/gen');
    expect(s.allowedPaths).toEqual(['/work/data']);
    expect(s.hooks).toEqual([{ module: 'hooks/track.ts', export: 'tracker' }]);
    expect(s.publish).toEqual({ target: 'dist' });
  });
});

describe('loadProject', () => {
  it('reads declarations under the pipelines folder and the files they point at, nothing else', async () => {
    const host = memoryHost({
      'kiln.yaml': 'name: demo\n',
      'pipelines/catalog.yaml': 'a:\n  type: json\n  path: data/a.json\n  schema: ./a.schema.json\n',
      'pipelines/a.schema.json': '{ "type": "object" }',
      'pipelines/parameters.yaml': 'k: 1\n',
      'pipelines/demo/pipeline.yaml': 'pipeline: demo\nnodes:\n  - run: ./nodes.ts#f\n    outputs: a\n',
      'pipelines/demo/nodes.ts': 'export function f() { return {}; }\n',
      'pipelines/demo/README.md': '# not read\n',
      'pipelines/demo/unused.ts': 'export const x = 1;\n',
    });
    const loaded = await loadProject(host);
    expect(loaded.diagnostics).toEqual([]);
    expect(loaded.catalogs.map((f) => f.file)).toEqual(['pipelines/catalog.yaml']);
    expect(loaded.parameters.map((f) => f.file)).toEqual(['pipelines/parameters.yaml']);
    expect(loaded.pipelines.map((f) => f.file)).toEqual(['pipelines/demo/pipeline.yaml']);
    expect([...loaded.sources.keys()].sort()).toEqual(['kiln.yaml', 'pipelines/a.schema.json', 'pipelines/catalog.yaml', 'pipelines/demo/nodes.ts', 'pipelines/demo/pipeline.yaml', 'pipelines/parameters.yaml']);
    expect(loaded.settings?.name).toBe('demo');
  });

  it('stops at an invalid kiln.yaml, and keeps going past an invalid declaration to report every file', async () => {
    const bad = await loadProject(memoryHost({ 'kiln.yaml': 'nme: demo\n', 'pipelines/catalog.yaml': 'a: 1\n' }));
    expect(bad.diagnostics.map((d) => d.code).sort()).toEqual(['KILN1006', 'KILN1007']);
    expect(bad.settings).toBeNull();
    const two = await loadProject(memoryHost({ 'kiln.yaml': 'name: demo\n', 'pipelines/catalog.yaml': 'a: 1\n', 'pipelines/p/pipeline.yaml': 'pipeline: p\n' }));
    expect(two.diagnostics.map((d) => `${d.location?.file} ${d.code}`)).toEqual(['pipelines/catalog.yaml KILN1005', 'pipelines/p/pipeline.yaml KILN1006']);
    expect(two.catalogs[0].valid).toBe(false);
  });

  it('refuses folders and hooks of kiln.yaml that lead outside the project', async () => {
    const loaded = await loadProject(memoryHost({ 'kiln.yaml': 'name: demo\ngenerated: ../../out\nstore: /var/kiln\npipelines: decl\nhooks:\n  - ../hooks.ts#h\n  - ./hooks.ts#ok\n' }));
    expect(loaded.diagnostics.map((d) => `${d.location?.line} ${d.code} ${d.message}`)).toEqual([
      "2 KILN1013 path '../../out' escapes the project root",
      "3 KILN1013 path '/var/kiln' escapes the project root",
      "6 KILN1013 path '../hooks.ts' escapes the project root",
    ]);
    expect(loaded.settings).toBeNull();
  });
});
