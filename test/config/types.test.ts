// src/types/*.ts are generated from schema/*.schema.json by scripts/gen-types.ts and committed: this fails when
// they are stale (run npm run gen:types).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DECLARATION_SCHEMAS, generateTypes, staleTypes } from '../../scripts/gen-types.ts';
import type { NodeDeclaration, PipelineDeclaration } from '../../src/types/pipeline.ts';
import type { KilnProject } from '../../src/types/kiln.ts';
import { repoRoot, tempDir } from '../helpers/project.ts';

describe('generated declaration types', () => {
  it('are up to date with the schemas (run npm run gen:types)', async () => {
    expect(await staleTypes()).toEqual([]);
  });

  it('cover every declaration schema, each module with the regeneration header', async () => {
    const files = await generateTypes();
    expect([...files.keys()]).toEqual(['src/types/kiln.ts', 'src/types/catalog.ts', 'src/types/parameters.ts', 'src/types/pipeline.ts']);
    for (const { schema, module } of DECLARATION_SCHEMAS) {
      expect(files.get(module)!.split('\n')[0]).toBe(`// generated from schema/${schema} by scripts/gen-types.ts; do not edit; run \`npm run gen:types\``);
    }
    expect(files.get('src/types/pipeline.ts')).toContain('nodes: (PipelineReuse | NodeDeclaration)[];');
    expect(files.get('src/types/catalog.ts')).toContain("type: 'memory' | 'json' | 'jsonl' | 'csv' | 'text' | 'binary' | 'partitioned' | 'tfjs_model' | 'metrics';");
  });

  it('are deterministic', async () => {
    const a = await generateTypes();
    const b = await generateTypes();
    expect([...b.entries()]).toEqual([...a.entries()]);
  });

  it('go stale when a schema changes', async () => {
    const root = tempDir('kiln-schemas-');
    fs.cpSync(path.join(repoRoot, 'schema'), path.join(root, 'schema'), { recursive: true });
    const file = path.join(root, 'schema', 'kiln.schema.json');
    const schema = JSON.parse(fs.readFileSync(file, 'utf8')) as { properties: Record<string, unknown> };
    schema.properties.owner = { description: 'Who looks after the project.', type: 'string' };
    fs.writeFileSync(file, JSON.stringify(schema));
    expect(await staleTypes(root)).toEqual(['src/types/kiln.ts']);
    expect((await generateTypes(root)).get('src/types/kiln.ts')).toContain('owner?: string;');
  });

  it('describe what the loader accepts', () => {
    // Compile-time checks: a declaration as the schema allows it has these types.
    const node: NodeDeclaration = { name: 'split', run: './nodes.ts#split', inputs: { emails: 'raw', seed: 'params:seed' }, outputs: ['train', 'test'], tags: ['data'] };
    const pipeline: PipelineDeclaration = { pipeline: 'spam', nodes: [node, { pipeline: 'features', namespace: 'train', inputs: { raw: 'train' } }], model: { name: 'm', input: 'test', output: 'scores', gate: { metrics: { auc: '>= 0.9' } } } };
    const project: KilnProject = { name: 'p', backend: 'cpu', hooks: ['./hooks.ts#h'] };
    expect([pipeline.nodes.length, project.name]).toEqual([2, 'p']);
  });
});
