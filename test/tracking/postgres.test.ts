// What only a shared store has: migrations raced by processes that open it at once, a newer schema refused, a server
// that is down or refuses the login (the URL shown masked), and cached executions that another machine recorded.
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { POSTGRES_SCHEMA_VERSION } from '../../src/tracking/postgres/migrations.ts';
import { diagnosticOf, newRun, tempDir } from './helpers.ts';
import { postgresCluster, postgresTracking } from './backends.ts';
import { skipPostgres } from '../helpers/postgres.ts';
import { runMain } from '../helpers/cli.ts';
import { makeProject } from '../helpers/project.ts';
import { openProjectTracking } from '../../src/tracking/index.ts';
import { resolveArtifact } from '../../src/artifact/resolve.ts';

const schemaOf = async (url: string) => {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const tables = (await c.query<{ t: string }>("SELECT table_name AS t FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1")).rows.map((r) => r.t);
    const version = (await c.query<{ version: number }>('SELECT version FROM kiln_schema')).rows;
    return { tables, version };
  } finally {
    await c.end();
  }
};

describe.skipIf(skipPostgres())('PostgreSQL run store', () => {
  it('migrates a fresh store once when several processes open it at the same moment (advisory lock)', async () => {
    const url = await (await postgresCluster()).freshStore();
    const dir = path.join(tempDir(), '.kiln');
    const opened = await Promise.all(Array.from({ length: 6 }, () => postgresTracking(url, dir)));
    const runs = await Promise.all(opened.map((t) => t.runs.createRun(newRun())));
    expect(new Set(runs.map((r) => r.id)).size).toBe(6);
    const { tables, version } = await schemaOf(url);
    expect(version).toEqual([{ version: POSTGRES_SCHEMA_VERSION }]);
    expect(tables).toEqual(expect.arrayContaining(['runs', 'params', 'metrics', 'latest_metrics', 'tags', 'node_executions', 'node_datasets', 'files', 'run_uncommitted_files', 'kiln_schema']));
  });

  it('refuses a store migrated by a newer kiln (KILN4007), naming it with the password masked', async () => {
    const cluster = await postgresCluster();
    const url = await cluster.freshStore();
    await postgresTracking(url, path.join(tempDir(), '.kiln'));
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query('UPDATE kiln_schema SET version = 99');
    await c.end();
    const d = await diagnosticOf(() => postgresTracking(url, path.join(tempDir(), '.kiln')));
    expect(d.code).toBe('KILN4007');
    expect(d.message).toContain('schema version 99');
    expect(d.message).toContain(`postgres://kiln:***@127.0.0.1:${cluster.port}/postgres`);
    expect(JSON.stringify(d)).not.toContain(cluster.password);
  });

  it('says which store cannot be reached (KILN4033) and which variable to fix when the login is refused (KILN4034), never the password', async () => {
    const cluster = await postgresCluster();
    const down = await diagnosticOf(() => postgresTracking('postgres://kiln:hunter2@127.0.0.1:1/postgres', path.join(tempDir(), '.kiln')));
    expect(down.code).toBe('KILN4033');
    expect(down.message).toContain('postgres://kiln:***@127.0.0.1:1/postgres');
    expect(JSON.stringify(down)).not.toContain('hunter2');
    const wrong = await diagnosticOf(() => postgresTracking(cluster.url.replace(cluster.password, 'not-the-password'), path.join(tempDir(), '.kiln')));
    expect(wrong.code).toBe('KILN4034');
    expect(wrong.message).toContain(`127.0.0.1:${cluster.port}`);
    expect(wrong.hint).toContain('KILN_STORE');
    expect(JSON.stringify(wrong)).not.toContain('not-the-password');
  });

  it('re-runs a node whose fingerprint another machine recorded until this machine has its output (no crash, no false hit)', async () => {
    const url = await (await postgresCluster()).freshStore();
    const a = await postgresTracking(url, path.join(tempDir(), '.kiln'));
    const b = await postgresTracking(url, path.join(tempDir(), '.kiln'));
    const object = await a.objects.putBytes('vocabulary of machine A');
    const run = await a.runs.createRun(newRun());
    await a.runs.recordNodes(run.id, [{ node: 'fit_vocabulary', start: { fingerprint: 'fp' }, finish: { status: 'FINISHED', outputs: { vocabulary: { sha256: object, object } } } }]);
    await a.runs.finishRun(run.id, { status: 'FINISHED' });
    expect((await a.runs.findCachedExecution('fit_vocabulary', 'fp'))?.runId).toBe(run.id);
    // B sees A's run, but not A's object: no hit, so the runner runs the node.
    expect((await b.runs.listRuns()).map((r) => r.id)).toEqual([run.id]);
    expect(await b.runs.findCachedExecution('fit_vocabulary', 'fp')).toBeNull();
    // Once the same content is in B's objects (computed, or pulled from a shared object store), it is a hit.
    expect(await b.objects.putBytes('vocabulary of machine A')).toBe(object);
    expect((await b.runs.findCachedExecution('fit_vocabulary', 'fp'))?.outputs).toEqual({ vocabulary: { sha256: object, object } });
  });

  it('records 100 nodes in one call, in order with their datasets; a finished run refuses the batch (KILN4010) and keeps its nodes', async () => {
    const url = await (await postgresCluster()).freshStore();
    const t = await postgresTracking(url, path.join(tempDir(), '.kiln'));
    const run = await t.runs.createRun(newRun());
    const h = 'a'.repeat(64);
    const nodes = Array.from({ length: 100 }, (_, i) => ({ node: `n${i}`, start: { fingerprint: `fp${i}`, inputs: { x: h } }, finish: { status: 'FINISHED' as const, outputs: { y: { sha256: h } } } }));
    const ids = await t.runs.recordNodes(run.id, nodes);
    expect(ids).toHaveLength(100);
    const rec = await t.runs.getRun(run.id);
    expect(rec.nodes.map((n) => n.id)).toEqual(ids);
    expect(rec.nodes[99]).toMatchObject({ node: 'n99', inputs: { x: h }, outputs: { y: { sha256: h, object: null } } });
    await t.runs.finishRun(run.id, { status: 'FINISHED' });
    const d = await diagnosticOf(() => t.runs.recordNodes(run.id, nodes));
    expect(d.code).toBe('KILN4010');
    expect((await t.runs.getRun(run.id)).nodes).toHaveLength(100);
  });

  it('keeps the commands that only the embedded store supports off a shared one: gc and runs delete (KILN4037), the local registry (KILN4036)', async () => {
    const url = await (await postgresCluster()).freshStore();
    const root = makeProject({ 'kiln.yaml': 'name: p\n' });
    const saved = process.env.KILN_STORE;
    process.env.KILN_STORE = url;
    try {
      const gc = await runMain(['gc', '--project', root], { cwd: root });
      expect(gc.code).toBe(1);
      expect(gc.stderr).toContain('KILN4037');
      expect(gc.stderr).toContain('postgres://kiln:***@');
      const del = await runMain(['runs', 'delete', '01aaaaaaaaaaaaaaaaaaaaaaaa', '--project', root], { cwd: root });
      expect(del.code).toBe(1);
      expect(del.stderr).toContain('KILN4037');
      const tracking = (await openProjectTracking(root))!;
      const d = await diagnosticOf(() => tracking.registry.listModels()).finally(() => tracking.close());
      expect(d.code).toBe('KILN4036');
      expect(d.hint).toContain('oci://');
      // `model@alias` of a local publish target: the same answer, not "no run store yet".
      expect((await diagnosticOf(() => resolveArtifact('scorer@production', root))).code).toBe('KILN4036');
    } finally {
      if (saved === undefined) delete process.env.KILN_STORE;
      else process.env.KILN_STORE = saved;
    }
    // Nothing was created beside the project: the runs are in PostgreSQL.
    expect(fs.existsSync(path.join(root, '.kiln', 'kiln.db'))).toBe(false);
  });
});

