// A full disk under the run store: SQLITE_FULL (through PRAGMA max_page_count) and ENOSPC (on a small tmpfs, where
// this process may mount one) become KILN4019 naming the store and the space needed; nothing partial is left; a run
// whose end cannot be recorded says so (KILN4020); partial objects of dead writers are swept when the store opens.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openTracking, type LocalObjectStore } from '../../src/tracking/index.ts';
import { RunRecorder } from '../../src/tracking/recorder.ts';
import { diagnosticOf, newRun, tempDir, tempStore, track } from './helpers.ts';

/** Mounts a tmpfs of `size` at `dir` when this process may (root, as in CI); false where it may not. */
export function mountTmpfs(dir: string, size: string): boolean {
  fs.mkdirSync(dir, { recursive: true });
  return spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]).status === 0;
}
const mounted: string[] = [];
afterAll(() => {
  for (const d of mounted.splice(0)) {
    spawnSync('umount', ['-l', d]);
    fs.rmSync(path.dirname(d), { recursive: true, force: true });
  }
});

const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid!;

describe('a full run database (SQLITE_FULL)', () => {
  it('is KILN4019 naming the database; the transaction is rolled back and the store stays usable', async () => {
    const { tracking: t, storeDir } = tempStore();
    const run = await t.runs.createRun(newRun());
    const db = t.runs.database.db;
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages + 2}`);
    const many = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`metric_${i}`, i]));
    const d = await diagnosticOf(() => t.runs.logMetrics(run.id, many));
    expect(d.code).toBe('KILN4019');
    expect(d.message).toMatch(new RegExp(`^no space left for the run store ${path.join(storeDir, 'kiln.db').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} while writing the run database \\(.+ free on its disk\\)$`));
    expect(d.hint).toContain('kiln gc');
    expect(Object.keys((await t.runs.getRun(run.id)).metrics)).toEqual([]);
    db.pragma('max_page_count = 1073741823');
    await t.runs.logMetrics(run.id, many);
    expect(Object.keys((await t.runs.getRun(run.id)).metrics)).toHaveLength(5000);
  });

  it('a metric write that failed does not leave the run RUNNING: it is recorded FAILED with the cause', async () => {
    const { tracking: t } = tempStore();
    const recorder = await RunRecorder.start(t.runs, { pipeline: 'spam', command: ['kiln', 'run'], git: null, versions: { kiln: '0', node: process.version, tfjs: null }, backend: null, params: {} });
    const db = t.runs.database.db;
    db.pragma(`max_page_count = ${(db.pragma('page_count', { simple: true }) as number) + 1}`);
    recorder.metrics('train', Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`m${i}`, i])));
    const shown = await recorder.end('FINISHED');
    expect(shown.map((x) => x.code)).toEqual(['KILN4019']);
    const rec = await t.runs.getRun(recorder.runId);
    expect(rec.status).toBe('FAILED');
    expect(rec.error).toMatch(/no space left for the run store/);
  });

  it('KILN4020 when the end of the run cannot be recorded at all', async () => {
    const { tracking: t } = tempStore();
    const recorder = await RunRecorder.start(t.runs, { pipeline: 'spam', command: ['kiln', 'run'], git: null, versions: { kiln: '0', node: process.version, tfjs: null }, backend: null, params: {} });
    t.runs.database.db.close();
    const [d] = await recorder.end('FAILED', 'node train failed');
    expect(d).toMatchObject({ code: 'KILN4020', message: expect.stringMatching(new RegExp(`^run ${recorder.runId} could not be recorded as FAILED in .*kiln\\.db: `)) });
    expect(d.hint).toContain('marks it KILLED');
  });
});

describe('partial objects', () => {
  it('of writers that died are swept when the store opens; those of live processes stay', () => {
    const dir = tempDir();
    const tmp = path.join(dir, '.kiln', 'objects', 'tmp');
    fs.mkdirSync(tmp, { recursive: true });
    const dead = path.join(tmp, `${deadPid()}-0123456789abcdef`);
    const live = path.join(tmp, `${process.pid}-0123456789abcdef`);
    fs.writeFileSync(dead, Buffer.alloc(13_000));
    fs.writeFileSync(live, 'being written');
    track(openTracking(path.join(dir, '.kiln')));
    expect([fs.existsSync(dead), fs.existsSync(live)]).toEqual([false, true]);
  });

  // Not a tempDir(): those are removed after each test, and a mounted folder only after it is unmounted.
  const tmpfs = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-tmpfs-')), 'objects');
  const canMount = mountTmpfs(tmpfs, '1m');
  if (canMount) mounted.push(tmpfs);

  it.skipIf(!canMount)('ENOSPC while storing an object (a 1 MiB tmpfs) is KILN4019 with the space needed, and leaves no partial file', async () => {
    const storeDir = path.dirname(tmpfs);
    const t = track(openTracking(storeDir));
    const big = path.join(tempDir(), 'big.bin');
    fs.writeFileSync(big, Buffer.alloc(3 * 1024 * 1024, 7));
    const d = await diagnosticOf(() => t.objects.putFile(big));
    expect(d.code, d.message).toBe('KILN4019');
    expect(d.message).toMatch(new RegExp(`^no space left for the run store ${tmpfs} while storing an object \\(1\\.0 MiB free on its disk\\)$`)); // free once the partial file is gone
    expect(d.hint).toMatch(/^Free at least 3\.0 MiB on that disk/); // 3 MiB needed, 1 MiB free, and 1 MiB to spare
    expect(fs.readdirSync(path.join(tmpfs, 'tmp'))).toEqual([]);
    // Small objects still fit: the store is not left full by the failed write.
    expect(fs.existsSync((t.objects as LocalObjectStore).objectPath(await t.objects.putBytes('small')))).toBe(true);
  });
});
