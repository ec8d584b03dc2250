// Registry operations: where a rollback goes (the alias history replayed as a stack), and the refusals of alias moves.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveArtifact } from '../../src/artifact/resolve.ts';
import { moveAlias, parseVersion, rollbackAlias, rollbackTarget } from '../../src/gitops/registry.ts';
import { openTracking } from '../../src/tracking/index.ts';
import type { AliasChange } from '../../src/tracking/registry.ts';
import { codesOf, kilnHere, tempDir, writeFiles } from './support.ts';

const history = (...versions: Array<number | null>): AliasChange[] => versions.map((version, i) => ({ alias: 'production', version, changedAt: i }));

describe('rollback target', () => {
  const table: Array<[name: string, moves: Array<number | null>, want: { current: number | null; target: number | null }]> = [
    ['never set', [], { current: null, target: null }],
    ['set once: nothing before it', [1], { current: 1, target: null }],
    ['promoted twice: back to the first', [1, 2], { current: 2, target: 1 }],
    ['after a rollback, the one before that', [1, 2, 3, 2], { current: 2, target: 1 }],
    ['a rollback does not bounce back', [1, 2, 1], { current: 1, target: null }],
    ['re-pointing at an old version is a promotion', [1, 2, 3, 1], { current: 1, target: 3 }],
    ['setting the same version again changes nothing', [1, 2, 2], { current: 2, target: 1 }],
    ['a removal is skipped', [1, null, 2], { current: 2, target: 1 }],
    ['removed last: unset', [1, 2, null], { current: null, target: null }],
  ];
  for (const [name, moves, want] of table) it(name, () => expect(rollbackTarget(history(...moves))).toEqual(want));
});

describe('alias moves', () => {
  it('refuse a version whose artifact is gone, a rollback with nowhere to go, and a bad version', async () => {
    const root = tempDir('kiln-registry-');
    const t = openTracking(path.join(root, '.kiln'));
    try {
      await t.registry.registerVersion({ model: 'm', artifactPath: 'dist/models/m/v1', artifactSha256: 'b'.repeat(64), runId: null, commit: null });
      expect(await codesOf(() => moveAlias(t.registry, root, 'm', 'production', 1))).toEqual(['KILN7015']);
      expect(await codesOf(() => rollbackAlias(t.registry, root, 'm', 'production'))).toEqual(['KILN7014']);
      await t.registry.setAlias('m', 'production', 1);
      expect(await codesOf(() => rollbackAlias(t.registry, root, 'm', 'production', 1))).toEqual(['KILN7014']);
      await t.registry.removeAlias('m', 'production');
      expect(await codesOf(() => rollbackAlias(t.registry, root, 'm', 'production'))).toEqual(['KILN7014']);
      expect(await codesOf(() => moveAlias(t.registry, root, 'm', 'production', 9))).toEqual(['KILN4013']);
    } finally {
      t.close();
    }
    expect(parseVersion('m', 'v3')).toBe(3);
    expect(parseVersion('m', '12')).toBe(12);
    expect(await codesOf(() => parseVersion('m', 'three'))).toEqual(['KILN4014']);
  });

  it('the CLI needs only kiln.yaml, and reading commands do not create a store', async () => {
    const root = tempDir('kiln-registry-');
    writeFiles(root, { 'kiln.yaml': 'name: empty\nstore: state\n' });
    const list = await kilnHere(['registry', 'list'], root);
    expect(list).toEqual({ code: 0, stdout: 'no registered models yet (kiln publish registers one)\n', stderr: '' });
    const show = await kilnHere(['registry', 'show', 'm'], root);
    expect(show.code).toBe(1);
    expect(show.stderr).toContain("KILN4012: no registered model named 'm'.");
    expect(fs.existsSync(path.join(root, 'state'))).toBe(false);
    const alias = await kilnHere(['registry', 'alias', 'm', 'production', 'x1', '--json'], root);
    expect(alias.code).toBe(1);
    expect(JSON.parse(alias.stdout)[0]).toMatchObject({ code: 'KILN4014' });
  });
});

describe('resolveArtifact (what kiln predict and kiln serve accept)', () => {
  it('resolves model@alias and model@v<N> to the published folder, relative to the project root, in the store kiln.yaml names', async () => {
    const root = tempDir('kiln-resolve-');
    const elsewhere = tempDir('kiln-resolve-abs-');
    writeFiles(root, { 'kiln.yaml': 'name: r\nstore: state\n', 'dist/models/m/v1/manifest.json': '{}\n' });
    writeFiles(elsewhere, { 'manifest.json': '{}\n' });
    const t = openTracking(path.join(root, 'state'));
    try {
      await t.registry.registerVersion({ model: 'm', artifactPath: 'dist/models/m/v1', artifactSha256: 'c'.repeat(64), runId: null, commit: null });
      await t.registry.registerVersion({ model: 'm', artifactPath: elsewhere, artifactSha256: 'd'.repeat(64), runId: null, commit: null });
      await t.registry.registerVersion({ model: 'm', artifactPath: 'dist/models/m/v3', artifactSha256: 'e'.repeat(64), runId: null, commit: null });
      await t.registry.setAlias('m', 'production', 1);
    } finally {
      t.close();
    }
    expect(await resolveArtifact('m@production', root)).toEqual({ dir: path.join(root, 'dist/models/m/v1'), version: 1, model: 'm', digest: 'c'.repeat(64) });
    expect((await resolveArtifact('m@v2', root)).dir).toBe(elsewhere);
    expect(await codesOf(() => resolveArtifact('m@v3', root))).toEqual(['KILN6009']);
    expect(await codesOf(() => resolveArtifact('m@staging', root))).toEqual(['KILN4013']);
  });
});
