import { describe, expect, it } from 'vitest';
import { parseModelRef } from '../../src/tracking/registry.ts';
import { codesOf, diagnosticOf, newRun, tempStore } from './helpers.ts';

const sha = (c: string) => c.repeat(64);

describe('model registry', () => {
  it('numbers versions per model, moves aliases, resolves references and keeps alias history', async () => {
    const { tracking: t } = tempStore();
    const run = await t.runs.createRun(newRun());
    const reg = t.registry;
    const v1 = await reg.registerVersion({ model: 'spam-filter', artifactPath: 'dist/spam-1', artifactSha256: sha('1'), runId: run.id, commit: 'c'.repeat(40) });
    const v2 = await reg.registerVersion({ model: 'spam-filter', artifactPath: 'dist/spam-2', artifactSha256: sha('2'), runId: null, commit: null, description: 'retrained' });
    const other = await reg.registerVersion({ model: 'ham', artifactPath: 'dist/ham', artifactSha256: sha('3'), runId: null, commit: null });
    expect([v1.version, v2.version, other.version]).toEqual([1, 2, 1]);
    expect(v1).toMatchObject({ model: 'spam-filter', runId: run.id, commit: 'c'.repeat(40), artifactSha256: sha('1'), aliases: [] });

    expect(await reg.setAlias('spam-filter', 'production', 1)).toEqual({ previous: null });
    expect(await reg.setAlias('spam-filter', 'staging', 2)).toEqual({ previous: null });
    expect((await reg.resolve('spam-filter@production')).artifactPath).toBe('dist/spam-1');
    expect(await reg.setAlias('spam-filter', 'production', 2)).toEqual({ previous: 1 });
    expect((await reg.resolve('spam-filter@production')).version).toBe(2);
    expect((await reg.resolve('spam-filter@v1')).artifactSha256).toBe(sha('1'));
    expect((await reg.resolve('spam-filter')).version).toBe(2);
    expect((await reg.resolve('spam-filter@latest')).version).toBe(2);
    expect((await reg.getVersion('spam-filter', 2)).aliases).toEqual(['production', 'staging']);

    const shown = await reg.showModel('spam-filter');
    expect(shown.versions.map((v) => v.version)).toEqual([2, 1]);
    expect(shown.aliases).toEqual({ production: 2, staging: 2 });
    expect(shown.latestVersion).toBe(2);
    expect((await reg.listModels()).map((m) => [m.name, m.versionCount])).toEqual([
      ['ham', 1],
      ['spam-filter', 2],
    ]);

    expect(await reg.removeAlias('spam-filter', 'staging')).toEqual({ previous: 2 });
    expect((await reg.aliasHistory('spam-filter', 'production')).map((c) => c.version)).toEqual([1, 2]);
    expect((await reg.aliasHistory('spam-filter', 'staging')).map((c) => c.version)).toEqual([2, null]);
  });

  it('says what is wrong with a reference: unknown model (KILN4012), version or alias (KILN4013), bad syntax (KILN4014)', async () => {
    const { tracking: t } = tempStore();
    const reg = t.registry;
    await reg.registerVersion({ model: 'spam-filter', artifactPath: 'a', artifactSha256: sha('1'), runId: null, commit: null });
    await reg.setAlias('spam-filter', 'production', 1);

    const unknown = await diagnosticOf(() => reg.resolve('spam-filtr@production'));
    expect(unknown.code).toBe('KILN4012');
    expect(unknown.message).toContain("Did you mean 'spam-filter'?");
    const noVersion = await diagnosticOf(() => reg.resolve('spam-filter@v9'));
    expect(noVersion.code).toBe('KILN4013');
    expect(noVersion.hint).toContain('v1');
    expect(noVersion.hint).toMatch(/^Known versions of spam-filter: /);
    const noAlias = await diagnosticOf(() => reg.resolve('spam-filter@staging'));
    expect(noAlias.code).toBe('KILN4013');
    expect(noAlias.hint).toContain('production (v1)');
    expect(noAlias.hint).toMatch(/^Known aliases of spam-filter: /);
    expect(await codesOf(() => reg.setAlias('spam-filter', 'staging', 5))).toEqual(['KILN4013']);
    expect(await codesOf(() => reg.removeAlias('spam-filter', 'staging'))).toEqual(['KILN4013']);
    for (const bad of ['spam-filter@', 'spam@a@b', '@prod', 'spam-filter@v0', 'spam filter']) {
      expect(await codesOf(() => reg.resolve(bad))).toEqual(['KILN4014']);
    }
    expect(parseModelRef('m@v12')).toEqual({ model: 'm', selector: { kind: 'version', version: 12 } });
  });

  it('rejects alias names that read as versions, bad model names, bad hashes and unknown runs', async () => {
    const { tracking: t } = tempStore();
    const reg = t.registry;
    await reg.registerVersion({ model: 'm', artifactPath: 'a', artifactSha256: sha('1'), runId: null, commit: null });
    expect(await codesOf(() => reg.setAlias('m', 'v2', 1))).toEqual(['KILN4011']);
    expect(await codesOf(() => reg.setAlias('m', 'latest', 1))).toEqual(['KILN4011']);
    expect(await codesOf(() => reg.registerVersion({ model: 'a@b', artifactPath: 'a', artifactSha256: sha('1'), runId: null, commit: null }))).toEqual(['KILN4011']);
    expect(await codesOf(() => reg.registerVersion({ model: 'm', artifactPath: 'a', artifactSha256: 'xyz', runId: null, commit: null }))).toEqual(['KILN4011']);
    expect(await codesOf(() => reg.registerVersion({ model: 'm', artifactPath: 'a', artifactSha256: sha('1'), runId: '0'.repeat(26), commit: null }))).toEqual(['KILN4002']);
    expect((await reg.showModel('m')).versionCount).toBe(1);
  });

  it('publishVersion registers an artifact digest once, and a version only after its artifact is in place', async () => {
    const { tracking: t } = tempStore();
    const reg = t.registry;
    const placed: number[] = [];
    const place = (v: number) => {
      placed.push(v);
      return { artifactPath: `dist/m/v${v}`, undo: () => placed.push(-v) };
    };
    const first = await reg.publishVersion({ model: 'm', artifactSha256: sha('1'), runId: null, commit: null, overrides: ['--params seed=8 (parameters.yaml: 7)'] }, place);
    expect(first).toMatchObject({ existing: false, version: { version: 1, artifactPath: 'dist/m/v1', overrides: ['--params seed=8 (parameters.yaml: 7)'] } });
    const again = await reg.publishVersion({ model: 'm', artifactSha256: sha('1'), runId: null, commit: null }, place);
    expect(again).toMatchObject({ existing: true, version: { version: 1 } });
    expect(placed).toEqual([1]);

    // Placing fails (the folder is taken): nothing is registered, the number stays free.
    await expect(reg.publishVersion({ model: 'm', artifactSha256: sha('2'), runId: null, commit: null }, () => { throw new Error('taken'); })).rejects.toThrow('taken');
    // Registering fails after the artifact was placed (the insert aborts): the placement is taken back.
    const db = t.runs.database.db;
    db.exec("CREATE TEMP TRIGGER refuse BEFORE INSERT ON model_versions BEGIN SELECT RAISE(ABORT, 'disk full'); END");
    await expect(reg.publishVersion({ model: 'm', artifactSha256: sha('2'), runId: null, commit: null }, place)).rejects.toThrow('disk full');
    db.exec('DROP TRIGGER refuse');
    expect(placed).toEqual([1, 2, -2]);
    const second = await reg.publishVersion({ model: 'm', artifactSha256: sha('2'), runId: null, commit: null }, place);
    expect(second.version).toMatchObject({ version: 2, overrides: [] });
    expect((await reg.showModel('m')).versions.map((v) => [v.version, v.artifactSha256])).toEqual([[2, sha('2')], [1, sha('1')]]);
  });
});
