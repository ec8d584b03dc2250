// kiln compile (and kiln run, which compiles first) never overwrites a file it did not generate: a write, like a
// deletion, requires kiln's header in the file it replaces (KILN2029), and nothing is written when one would be lost.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeProject } from '../helpers/project.ts';
import { runMain } from '../helpers/cli.ts';

const nodes = 'export function make(): number[] {\n  return [1, 2, 3];\n}\n';
const pipeline = (name: string) => `pipeline: ${name}\nnodes:\n  - name: make\n    run: ./nodes.ts#make\n    outputs: ${name}_numbers\n`;

describe('kiln compile refuses to overwrite files it did not generate', () => {
  it('a pipeline module that would replace node code (generated: pipelines/p, a pipeline named nodes)', async () => {
    const root = makeProject({
      'kiln.yaml': 'name: overwrite\ngenerated: pipelines/p\n',
      'pipelines/p/pipeline.yaml': pipeline('p'),
      'pipelines/p/nodes.ts': nodes,
      'pipelines/q/pipeline.yaml': pipeline('nodes'),
      'pipelines/q/nodes.ts': nodes,
    });
    const r = await runMain(['compile', '--no-typecheck', '--project', root], { cwd: root });
    expect(r.code).toBe(1);
    expect(r.stderr.match(/KILN\d{4}/g)).toEqual(['KILN2029']);
    expect(r.stderr).toContain('kiln.yaml:2:12 error KILN2029: kiln compile would overwrite pipelines/p/nodes.ts, which kiln did not generate');
    expect(fs.readFileSync(path.join(root, 'pipelines/p/nodes.ts'), 'utf8')).toBe(nodes);
    // Nothing at all was written: no half-compiled folder.
    expect(fs.existsSync(path.join(root, 'pipelines/p/index.ts'))).toBe(false);
  });

  it('a file of the person in generated/, and --check says so too; a kiln-generated file is still replaced', async () => {
    const root = makeProject({ 'kiln.yaml': 'name: overwrite\n', 'pipelines/p/pipeline.yaml': pipeline('p'), 'pipelines/p/nodes.ts': nodes, 'generated/index.ts': 'export const mine = 1;\n' });
    for (const args of [['compile'], ['compile', '--check']]) {
      const r = await runMain([...args, '--no-typecheck', '--project', root], { cwd: root });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('KILN2029: kiln compile would overwrite generated/index.ts');
    }
    expect(fs.readFileSync(path.join(root, 'generated/index.ts'), 'utf8')).toBe('export const mine = 1;\n');
    fs.rmSync(path.join(root, 'generated/index.ts'));
    expect((await runMain(['compile', '--no-typecheck', '--project', root], { cwd: root })).code).toBe(0);
    fs.appendFileSync(path.join(root, 'generated/p.ts'), '// edited\n');
    expect((await runMain(['compile', '--no-typecheck', '--project', root], { cwd: root })).code).toBe(0);
    expect(fs.readFileSync(path.join(root, 'generated/p.ts'), 'utf8')).not.toContain('// edited');
  });
});
