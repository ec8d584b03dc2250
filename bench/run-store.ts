// bench/run-store.ts: run store operations on PostgreSQL (a throw-away cluster on loopback, as the tests start one)
// next to the embedded SQLite store, in the same run: create a run, log 1,000 metric values (one call with 1,000
// keys; 1,000 calls fired at once, as the run recorder fires them; 1,000 calls one after the other, each awaited),
// and record 100 ended nodes in one batch. Goal: 1,000 metric values in under 100 ms on either store.
// Prints JSON (milliseconds, median of the rounds, and operations per second).
//
//   npx tsx bench/run-store.ts [--rounds 5]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openPostgresTracking, openTracking, type NewRun, type Tracking } from '../src/tracking/index.ts';
import { maskStoreUrl } from '../src/tracking/store-url.ts';
import { startPostgres } from '../test/helpers/postgres.ts';

const roundsAt = process.argv.indexOf('--rounds');
const rounds = roundsAt >= 0 ? Number(process.argv[roundsAt + 1]) : 5;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (ms: number) => Math.round(ms * 100) / 100;

const run: NewRun = { pipeline: 'bench', command: ['kiln', 'run'], git: null, versions: { kiln: '0', node: process.version, tfjs: null }, backend: null, params: { seed: 1, lr: 0.01 } };
const h = 'a'.repeat(64);
const nodes = Array.from({ length: 100 }, (_, i) => ({ node: `n${i}`, start: { fingerprint: `fp${i}`, inputs: { x: h } }, finish: { status: 'FINISHED' as const, outputs: { y: { sha256: h } } } }));

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function measure(t: Tracking) {
  const samples = { createRun: [] as number[], metrics1000OneCall: [] as number[], metrics1000Concurrent: [] as number[], metrics1000Sequential: [] as number[], recordNodes100: [] as number[], getRun: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    let id = '';
    samples.createRun.push(await time(async () => (id = (await t.runs.createRun(run)).id)));
    const many = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`m${i}`, i / 1000]));
    samples.metrics1000OneCall.push(await time(() => t.runs.logMetrics(id, many)));
    samples.metrics1000Concurrent.push(await time(() => Promise.all(Array.from({ length: 1000 }, (_, i) => t.runs.logMetrics(id, { loss: 1 / (i + 1) }, { step: i })))));
    samples.metrics1000Sequential.push(
      await time(async () => {
        for (let i = 0; i < 1000; i++) await t.runs.logMetrics(id, { accuracy: i / 1000 }, { step: i });
      }),
    );
    samples.recordNodes100.push(await time(() => t.runs.recordNodes(id, nodes)));
    samples.getRun.push(await time(() => t.runs.getRun(id)));
    await t.runs.finishRun(id, { status: 'FINISHED' });
  }
  const ms = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, round(median(v))])) as Record<keyof typeof samples, number>;
  return {
    ms,
    perSecond: {
      createRun: Math.round(1000 / ms.createRun),
      metricValuesOneCall: Math.round(1000 * (1000 / ms.metrics1000OneCall)),
      metricValuesConcurrent: Math.round(1000 * (1000 / ms.metrics1000Concurrent)),
      metricValuesSequential: Math.round(1000 * (1000 / ms.metrics1000Sequential)),
      nodesRecorded: Math.round(100 * (1000 / ms.recordNodes100)),
    },
    goalMetrics1000Under100ms: { oneCall: ms.metrics1000OneCall < 100, concurrent: ms.metrics1000Concurrent < 100, sequential: ms.metrics1000Sequential < 100 },
  };
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-bench-run-store-'));
const cluster = await startPostgres();
try {
  const sqlite = openTracking(path.join(work, 'sqlite', '.kiln'));
  const sqliteResult = await measure(sqlite).finally(() => sqlite.close());
  const url = await cluster.freshStore();
  const postgres = await openPostgresTracking({ url, display: maskStoreUrl(url), variables: [] }, path.join(work, 'postgres', '.kiln'));
  const postgresResult = await measure(postgres).finally(() => postgres.close());
  const ratio = (k: keyof typeof sqliteResult.ms) => round(postgresResult.ms[k] / sqliteResult.ms[k]);
  console.log(
    JSON.stringify(
      {
        rounds,
        machine: `${os.cpus().length} cores, ${os.cpus()[0]?.model ?? 'unknown CPU'}, load ${os.loadavg()[0].toFixed(1)}`,
        postgres: { server: 'PostgreSQL 15 on loopback, fsync off, synchronous_commit off (test cluster)', ...postgresResult },
        sqlite: { server: 'embedded, WAL, synchronous NORMAL', ...sqliteResult },
        postgresOverSqlite: Object.fromEntries((Object.keys(sqliteResult.ms) as Array<keyof typeof sqliteResult.ms>).map((k) => [k, ratio(k)])),
      },
      null,
      2,
    ),
  );
} finally {
  await cluster.stop();
  fs.rmSync(work, { recursive: true, force: true });
}
