// One run store, several `kiln run` processes: eight started at once all record complete runs, and a run whose
// process is SIGKILLed is marked KILLED the next time the store opens, with the database intact.
import path from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { openTracking } from '../../src/tracking/index.ts';
import { cloneProject, warmProject } from '../helpers/warm-project.ts';
import { kiln, startKiln, until } from './kiln-process.ts';

interface Listed {
  id: string;
  status: string;
}

describe('kiln run processes sharing a store', () => {
  let mini: string;
  let fanout: string;
  beforeAll(async () => {
    [mini, fanout] = await Promise.all([warmProject('mini'), warmProject('fanout')]);
  });

  it('eight processes started at once all finish with complete run records and no "database is locked"', async () => {
    const root = cloneProject(mini);
    // The store does not exist yet: the eight also race to create and migrate it.
    const results = await Promise.all(Array.from({ length: 8 }, () => kiln(['run', '--project', root], root)));
    for (const [i, r] of results.entries()) {
      expect(r.code, `process ${i}: ${r.stderr}`).toBe(0);
      expect(`${r.stdout}${r.stderr}`).not.toMatch(/database is locked|SQLITE_BUSY/i);
    }
    const ids = results.map((r) => /run (\w+) finished/.exec(r.stderr)?.[1]);

    const list = await kiln(['runs', 'list', '--project', root, '--json'], root);
    expect(list.code, list.stderr).toBe(0);
    const runs = JSON.parse(list.stdout) as Listed[];
    expect(runs).toHaveLength(8);
    expect(runs.map((r) => r.status)).toEqual(Array(8).fill('FINISHED'));
    expect(new Set(runs.map((r) => r.id))).toEqual(new Set(ids));

    const t = openTracking(path.join(root, '.kiln'));
    try {
      for (const r of runs) {
        const rec = await t.runs.getRun(r.id);
        expect(rec.nodes.map((n) => [n.node, n.status])).toEqual([
          ['scale', 'FINISHED'],
          ['summarize', 'FINISHED'],
        ]);
        expect(rec.params).toMatchObject({ scale: 2, 'stats.offset': 1.5 });
        // Every run, computed or skipped, records what summarize wrote.
        expect(rec.nodes[1].outputs.summary.sha256).toMatch(/^[0-9a-f]{64}$/);
      }
      expect(t.runs.database.db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      t.close();
    }
  });

  it('a run SIGKILLed mid-node is KILLED on the next open, and the database passes integrity_check', async () => {
    const root = cloneProject(fanout);
    const child = startKiln(['run', '--project', root, '--params', 'delay_ms=20000'], root);
    await until(() => child.stderr().includes('left_branch: running') || child.proc.exitCode !== null, 'the slow node to start');
    child.proc.kill('SIGKILL');
    expect((await child.exited).signal).toBe('SIGKILL');

    const list = await kiln(['runs', 'list', '--project', root, '--json'], root);
    expect(list.code, list.stderr).toBe(0);
    const runs = JSON.parse(list.stdout) as Listed[];
    expect(runs.map((r) => r.status)).toEqual(['KILLED']);

    const db = new Database(path.join(root, '.kiln', 'kiln.db'), { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(db.prepare('SELECT status FROM runs').all()).toEqual([{ status: 'KILLED' }]);
    } finally {
      db.close();
    }
  });
});
