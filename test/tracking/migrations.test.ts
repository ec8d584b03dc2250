import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openTracking, SCHEMA_VERSION } from '../../src/tracking/index.ts';
import { migrations } from '../../src/tracking/migrations.ts';
import { diagnosticOf, newRun, tempDir, track } from './helpers.ts';

const tables = (file: string) => {
  const db = new Database(file, { readonly: true });
  const names = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name);
  const version = db.pragma('user_version', { simple: true });
  db.close();
  return { names, version };
};

describe('schema migrations', () => {
  it('numbers migrations 1, 2, … without gaps', () => {
    expect(migrations.map((m) => m.version)).toEqual(migrations.map((_, i) => i + 1));
    expect(SCHEMA_VERSION).toBe(migrations.length);
  });

  it('opens a store left at version 1 (before the registry), keeps its runs and migrates it', async () => {
    const storeDir = path.join(tempDir(), '.kiln');
    const old = openTracking(storeDir, { schemaVersion: 1 });
    const run = await old.runs.createRun(newRun({ params: { seed: 7 } }));
    await old.runs.logMetrics(run.id, { accuracy: 0.9 });
    await old.runs.finishRun(run.id, { status: 'FINISHED' });
    old.close();
    const before = tables(path.join(storeDir, 'kiln.db'));
    expect(before.version).toBe(1);
    expect(before.names).not.toContain('model_versions');

    const t = track(openTracking(storeDir));
    const after = tables(path.join(storeDir, 'kiln.db'));
    expect(after.version).toBe(SCHEMA_VERSION);
    expect(after.names).toEqual(expect.arrayContaining(['registered_models', 'model_versions', 'model_aliases', 'model_alias_history']));
    const rec = await t.runs.getRun(run.id);
    expect(rec.params).toEqual({ seed: 7 });
    expect(rec.metrics.accuracy.value).toBe(0.9);
    const v = await t.registry.registerVersion({ model: 'spam-filter', artifactPath: 'dist/a', artifactSha256: 'e'.repeat(64), runId: run.id, commit: rec.git.commit });
    expect(v.version).toBe(1);
  });

  it('opens a store left at version 2 (before invocations were kept): old runs have none, old versions no overrides', async () => {
    const storeDir = path.join(tempDir(), '.kiln');
    const old = openTracking(storeDir, { schemaVersion: 2 });
    const run = await old.runs.createRun(newRun());
    await old.registry.registerVersion({ model: 'm', artifactPath: 'dist/m/v1', artifactSha256: 'e'.repeat(64), runId: run.id, commit: null });
    old.close();
    expect(tables(path.join(storeDir, 'kiln.db')).version).toBe(2);

    const t = track(openTracking(storeDir));
    expect((await t.runs.getRun(run.id)).invocation).toBeNull();
    expect((await t.registry.getVersion('m', 1)).overrides).toEqual([]);
    const invocation = { params: { seed: 8 }, loadVersions: {}, filter: { nodes: ['train'] }, backend: null, cache: false };
    const next = await t.runs.createRun(newRun({ invocation }));
    expect((await t.runs.getRun(next.id)).invocation).toEqual(invocation);
    const again = await t.registry.publishVersion({ model: 'm', artifactSha256: 'e'.repeat(64), runId: null, commit: null }, () => {
      throw new Error('an artifact published before is not placed again');
    });
    expect(again).toMatchObject({ existing: true, version: { version: 1 } });
  });

  it('moves the uncommitted files of runs recorded at version 2 into their own rows, without blob ids', async () => {
    const storeDir = path.join(tempDir(), '.kiln');
    const old = openTracking(storeDir, { schemaVersion: 2 });
    const dirtyGit = { root: '/r', commit: 'c'.repeat(40), branch: 'main', dirty: true, diffHash: 'd'.repeat(64) };
    // Version 2 kept the list as JSON in runs.git_uncommitted: written here as that kiln wrote it.
    const run = await old.runs.createRun(newRun({ git: { ...dirtyGit, uncommitted: [] } }));
    old.runs.database.db
      .prepare('UPDATE runs SET git_uncommitted = ? WHERE id = ?')
      .run(JSON.stringify([{ path: 'src/a.ts', status: 'modified' }, { path: 'notes.md', status: 'untracked' }]), run.id);
    old.close();

    const t = track(openTracking(storeDir));
    expect(tables(path.join(storeDir, 'kiln.db')).names).toContain('run_uncommitted_files');
    expect((await t.runs.getRun(run.id)).git.uncommitted).toEqual([
      { path: 'notes.md', status: 'untracked', blob: null },
      { path: 'src/a.ts', status: 'modified', blob: null },
    ]);
    const columns = (t.runs.database.db.prepare('PRAGMA table_info(runs)').all() as Array<{ name: string }>).map((c) => c.name);
    expect(columns).not.toContain('git_uncommitted');
    const next = await t.runs.createRun(newRun({ git: { ...dirtyGit, uncommitted: [{ path: 'src/a.ts', status: 'modified', blob: 'b'.repeat(40) }] } }));
    expect((await t.runs.getRun(next.id)).git.uncommitted).toEqual([{ path: 'src/a.ts', status: 'modified', blob: 'b'.repeat(40) }]);
    // Deleting a run takes its file rows with it.
    t.runs.database.db.prepare('DELETE FROM runs WHERE id = ?').run(run.id);
    expect(t.runs.database.db.prepare('SELECT count(*) AS n FROM run_uncommitted_files').get()).toEqual({ n: 1 });
  });

  it('refuses a store from a newer kiln (KILN4007)', async () => {
    const storeDir = path.join(tempDir(), '.kiln');
    track(openTracking(storeDir)).close();
    const db = new Database(path.join(storeDir, 'kiln.db'));
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    const d = await diagnosticOf(() => track(openTracking(storeDir)));
    expect(d.code).toBe('KILN4007');
    expect(d.message).toContain(`schema version ${SCHEMA_VERSION + 1}`);
  });

  it('enforces foreign keys', async () => {
    const storeDir = path.join(tempDir(), '.kiln');
    const t = track(openTracking(storeDir));
    expect(() => t.runs.database.db.prepare("INSERT INTO metrics (run_id, key, value, step, timestamp) VALUES ('nope', 'a', 1, 0, 0)").run()).toThrow(/FOREIGN KEY/);
  });
});
