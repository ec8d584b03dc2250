// The synthetic projects of bench/compile.ts stay valid, so the benchmark measures a compile that succeeds.
import { describe, expect, it } from 'vitest';
import { writeSyntheticProject } from '../../bench/compile.ts';
import { buildProject } from '../../src/build.ts';
import { tempDir } from '../helpers/project.ts';

describe('bench/compile.ts synthetic projects', () => {
  it('validate and compile without a diagnostic, with the requested number of nodes', async () => {
    const root = tempDir('kiln-synthetic-');
    writeSyntheticProject(root, 250);
    const r = await buildProject(root, { typecheck: false });
    expect(r.diagnostics).toEqual([]);
    const pipelines = Object.values(r.ir!.pipelines);
    expect(pipelines.map((p) => p.nodes.length)).toEqual([100, 100, 50]);
    expect([...r.output!.files.keys()]).toEqual(['generated/schemas/row.ts', 'generated/parameters.ts', 'generated/datasets.ts', 'generated/p0.ts', 'generated/p1.ts', 'generated/p2.ts', 'generated/index.ts']);
  });
});
