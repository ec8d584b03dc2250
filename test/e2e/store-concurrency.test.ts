// One run store, several `kiln run` processes: eight started at once all record complete runs, and a run whose
// process is SIGKILLed is marked KILLED the next time the store opens, with the database intact and the nodes that
// ended before the kill reusable (the recorder writes them in batches, at most FLUSH_MS after they end).
import path from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { openTracking } from '../../src/tracking/index.ts';
import { FLUSH_MS } from '../../src/tracking/recorder.ts';
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

  it('a run SIGKILLed while its second node runs: the node that ended before is reused by the next run, no staged object is left', async () => {
    const root = cloneProject(fanout);
    const args = ['run', '--project', root, '--params', 'delay_ms=1500'];
    const child = startKiln(args, root);
    await until(() => child.stderr().includes('right_branch: running') || child.proc.exitCode !== null, 'the second slow node to start');
    // Longer than a batch waits: left_branch's record is written, right_branch has its RUNNING row.
    await new Promise((r) => setTimeout(r, 4 * FLUSH_MS));
    child.proc.kill('SIGKILL');
    expect((await child.exited).signal).toBe('SIGKILL');

    const again = await kiln(args, root);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/^left_branch\s+cached/m);
    expect(again.stderr).toMatch(/^right_branch\s+done/m);
    const t = openTracking(path.join(root, '.kiln'));
    try {
      const [latest, killed] = await t.runs.listRuns();
      expect([latest.status, killed.status]).toEqual(['FINISHED', 'KILLED']);
      expect((await t.runs.getRun(killed.id)).nodes.map((n) => [n.node, n.status])).toEqual([
        ['left_branch', 'FINISHED'],
        ['right_branch', 'KILLED'],
      ]);
      expect(t.runs.database.db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      t.close();
    }
    // The killed process's staged snapshots were swept when the store next opened.
    expect(fs.readdirSync(path.join(root, '.kiln', 'objects', 'tmp'))).toEqual([]);
  });
});
