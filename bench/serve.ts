// Benchmark of the scoring server: single-record requests at 1, 16 and 64 connections (autocannon, in a separate
// process so it does not share the server's event loop), the same records through in-process predict, and a trivial
// predictor behind kiln's server next to a bare node:http server doing the same JSON work, and the trivial predictor
// served by 1 process against N worker processes (`kiln serve --workers N`), all measured in the same run.
//
//   npx tsx bench/serve.ts [artifact-dir] [--records file.jsonl] [--duration seconds-per-round] [--rounds 3] [--connections 1,16,64] [--workers N]
//
// Prints JSON. Without an artifact the "model" is the trivial predictor.
import cluster from 'node:cluster';
import http from 'node:http';
import fs from 'node:fs';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import type { Predictor } from '../src/serve/predictor.ts';
import { createScoringServer } from '../src/serve/server.ts';
import { serveUntilSignal } from '../src/serve/shutdown.ts';
import { isServingWorker, runWorkerPool, serveAsWorker } from '../src/serve/workers.ts';
import { kilnVersion } from '../src/version.ts';

export interface LoadPoint {
  connections: number;
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  non2xx: number;
  errors: number;
  /** CPU time (user + system) of the serving process per answered request: steadier than throughput on a busy machine. */
  serverCpuUsPerRequest: number;
}

export interface InProcess {
  /** One record per predict call, awaited one after the other: what a request costs without HTTP. */
  single: { recordsPerSec: number; p50Ms: number; p99Ms: number; meanMs: number };
  /** Records in predict calls of 64: the ceiling micro-batching can approach. */
  batched64: { recordsPerSec: number };
}

export interface BenchServeResult {
  http: LoadPoint[];
  inProcess: InProcess;
  overhead: {
    /** Mean latency over HTTP at 1 connection minus mean in-process predict latency: what HTTP adds per request. */
    perRequestMs: number;
    /** HTTP requests/s at 1 connection divided by in-process single-record predictions/s (1 = no overhead). */
    throughputRatioAt1: number;
    /** Best HTTP requests/s over in-process single-record predictions/s (batching can push it above 1). */
    bestThroughputRatio: number;
  };
}

export interface BenchOptions {
  /** Seconds of load per round. */
  durationS: number;
  /** Rounds per point; the median round (by throughput) is reported, which tames a noisy shared machine. */
  rounds: number;
  connections: number[];
}

const defaults: BenchOptions = { durationS: 2, rounds: 3, connections: [1, 16, 64] };

/** Serves `predictor` with kiln's scoring server on loopback and measures it with single-record requests. */
export async function benchServe(predictor: Predictor, records: unknown[], options: Partial<BenchOptions> = {}): Promise<BenchServeResult> {
  const o = { ...defaults, ...options };
  const bodies = requestBodies(records);
  const inProcess = await measureInProcess(predictor, records, Math.min(2, o.durationS), o.rounds);
  const scoring = createScoringServer(predictor);
  const { port } = await scoring.listen(0, '127.0.0.1');
  const load = new LoadGenerator();
  try {
    await load.run(port, bodies, 16, 1); // warm-up
    const points: LoadPoint[] = [];
    for (const c of o.connections) {
      const rounds: LoadPoint[] = [];
      for (let r = 0; r < o.rounds; r++) rounds.push(await load.run(port, bodies, c, o.durationS));
      points.push(median(rounds));
    }
    return { http: points, inProcess, overhead: overheadOf(points, inProcess) };
  } finally {
    load.close();
    await scoring.close();
  }
}

/** The round with the median throughput, with every round's throughput alongside. */
function median(rounds: LoadPoint[]): LoadPoint & { roundsPerSec: number[] } {
  const sorted = [...rounds].sort((a, b) => a.requestsPerSec - b.requestsPerSec);
  return { ...sorted[Math.floor(sorted.length / 2)], roundsPerSec: rounds.map((r) => r.requestsPerSec) };
}

function overheadOf(points: LoadPoint[], inProcess: InProcess): BenchServeResult['overhead'] {
  const at1 = points.find((p) => p.connections === 1) ?? points[0];
  const best = Math.max(...points.map((p) => p.requestsPerSec));
  // With one connection the client waits for each answer, so the mean latency is 1 / throughput.
  const httpMeanMs = 1000 / at1.requestsPerSec;
  return {
    perRequestMs: round(httpMeanMs - inProcess.single.meanMs, 4),
    throughputRatioAt1: round(at1.requestsPerSec / inProcess.single.recordsPerSec, 4),
    bestThroughputRatio: round(best / inProcess.single.recordsPerSec, 4),
  };
}

/** The trivial predictor: checks `{ text: string }` and answers its length, so the server's own cost dominates. */
export function trivialPredictor(): Predictor {
  const validate = (r: unknown): string | null => {
    if (typeof r !== 'object' || r === null || Array.isArray(r)) return '/: must be object';
    return typeof (r as { text?: unknown }).text === 'string' ? null : '/text: must be string';
  };
  return {
    manifest: { model: 'trivial', run_id: 'bench', kiln_version: kilnVersion, input_schema: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } } },
    validate,
    predict(records: unknown[]): Promise<unknown[]> {
      const out = new Array<unknown>(records.length);
      for (let i = 0; i < records.length; i++) {
        const problem = validate(records[i]);
        if (problem) return Promise.reject(new Error(`record ${i}: ${problem}`));
        out[i] = { length: (records[i] as { text: string }).text.length };
      }
      return Promise.resolve(out);
    },
  };
}

/** A bare node:http server doing the same work without kiln: read the body, parse it, answer the same JSON. */
async function bareServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { inputs: Array<{ text: string }> };
      const out = JSON.stringify({ predictions: body.inputs.map((r) => ({ length: r.text.length })) });
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(out) });
      res.end(out);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((r) => server.close(() => r())) };
}

/** Kiln's server with the trivial predictor against the bare server, interleaved per connection count. */
export async function benchAgainstBare(records: unknown[], options: Partial<BenchOptions> = {}) {
  const o = { ...defaults, ...options };
  const bodies = requestBodies(records);
  const kiln = createScoringServer(trivialPredictor());
  const { port: kilnPort } = await kiln.listen(0, '127.0.0.1');
  const bare = await bareServer();
  const load = new LoadGenerator();
  try {
    await load.run(kilnPort, bodies, 16, 1);
    await load.run(bare.port, bodies, 16, 1);
    const kilnPoints: LoadPoint[] = [];
    const barePoints: LoadPoint[] = [];
    for (const c of o.connections) {
      const k: LoadPoint[] = [];
      const b: LoadPoint[] = [];
      // Interleaved, alternating which goes first, so drift in the machine's load hits both alike.
      for (let r = 0; r < o.rounds; r++) {
        if (r % 2 === 0) {
          k.push(await load.run(kilnPort, bodies, c, o.durationS));
          b.push(await load.run(bare.port, bodies, c, o.durationS));
        } else {
          b.push(await load.run(bare.port, bodies, c, o.durationS));
          k.push(await load.run(kilnPort, bodies, c, o.durationS));
        }
      }
      kilnPoints.push(median(k));
      barePoints.push(median(b));
    }
    const ratios = o.connections.map((c, i) => ({
      connections: c,
      throughputRatio: round(kilnPoints[i].requestsPerSec / barePoints[i].requestsPerSec, 3),
      /** Bare CPU per request over kiln's: kiln's throughput relative to bare when the server is CPU-bound. */
      cpuEfficiencyRatio: round(barePoints[i].serverCpuUsPerRequest / kilnPoints[i].serverCpuUsPerRequest, 3),
      p50Ratio: round(kilnPoints[i].p50Ms / barePoints[i].p50Ms, 3),
    }));
    return { kilnTrivial: kilnPoints, bareNodeHttp: barePoints, kilnVsBare: ratios, target: 'kiln throughput >= 0.70 of bare', met: ratios.every((r) => r.throughputRatio >= 0.7) };
  } finally {
    load.close();
    await kiln.close();
    await bare.close();
  }
}

/**
 * The trivial predictor served by one process (what `kiln serve --workers 1` runs) and by `workers` cluster workers,
 * each in a child process of its own (this file with --serve-trivial), interleaved round by round.
 */
export async function benchWorkers(records: unknown[], workers: number, options: Partial<BenchOptions> = {}) {
  const o = { ...defaults, ...options };
  const bodies = requestBodies(records);
  const single = await TrivialServer.start(1);
  const pool = await TrivialServer.start(workers);
  const load = new LoadGenerator();
  try {
    await load.run(single.port, bodies, 16, 1);
    await load.run(pool.port, bodies, 16, 1);
    const points = [];
    for (const c of o.connections) {
      const one: LoadPoint[] = [];
      const many: LoadPoint[] = [];
      for (let r = 0; r < o.rounds; r++) {
        // Alternating which goes first, so drift in the machine's load hits both alike.
        if (r % 2 === 0) {
          one.push(await single.measure(load, bodies, c, o.durationS));
          many.push(await pool.measure(load, bodies, c, o.durationS));
        } else {
          many.push(await pool.measure(load, bodies, c, o.durationS));
          one.push(await single.measure(load, bodies, c, o.durationS));
        }
      }
      const a = median(one);
      const b = median(many);
      points.push({
        connections: c,
        oneWorker: a,
        workers: b,
        throughputRatio: round(b.requestsPerSec / a.requestsPerSec, 3),
        p99Ratio: round(b.p99Ms / a.p99Ms, 3),
        /** CPU per request of one worker over the pool's (all its processes): near 1 when workers add no cost per request. */
        cpuEfficiencyRatio: round(a.serverCpuUsPerRequest / b.serverCpuUsPerRequest, 3),
      });
    }
    const best = Math.max(...points.map((p) => p.throughputRatio));
    return {
      workers,
      cores: os.availableParallelism(),
      points,
      target: `${workers} workers >= 1.8x one worker's requests/s`,
      met: best >= 1.8,
      note: 'the load generator runs on the same cores; on a shared machine the CPU ratio is the steadier figure',
    };
  } finally {
    load.close();
    await single.stop();
    await pool.stop();
  }
}

/** `npx tsx bench/serve.ts --serve-trivial N` in a child process: prints {"port"} once listening, drains on SIGTERM. */
class TrivialServer {
  private constructor(
    private readonly child: ReturnType<typeof spawn>,
    readonly port: number,
    /** Every process of the server (the primary and its workers), whose CPU time is summed. */
    private readonly pids: number[],
  ) {}

  /** A load point with the CPU the server's processes used per answered request (from /proc, Linux only). */
  async measure(load: LoadGenerator, bodies: string[], connections: number, durationS: number): Promise<LoadPoint> {
    const cpu0 = this.cpuUs();
    const point = await load.run(this.port, bodies, connections, durationS);
    point.serverCpuUsPerRequest = round((this.cpuUs() - cpu0) / Math.max(1, point.requests), 2);
    return point;
  }

  private cpuUs(): number {
    const tick = 1e6 / 100; // USER_HZ
    let total = 0;
    for (const pid of this.pids) {
      try {
        const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
        total += (Number(fields[11]) + Number(fields[12])) * tick; // utime, stime
      } catch {
        return NaN;
      }
    }
    return total;
  }

  static async start(workers: number): Promise<TrivialServer> {
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--serve-trivial', String(workers)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const { port, pids } = await new Promise<{ port: number; pids: number[] }>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', (line) => resolve(JSON.parse(line) as { port: number; pids: number[] }));
      child.once('exit', (code) => reject(new Error(`trivial server exited with ${code}`)));
    });
    return new TrivialServer(child, port, pids);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGTERM');
    });
  }
}

/** The child side of TrivialServer: one process, or a pool of workers sharing the port. */
async function serveTrivial(workers: number): Promise<void> {
  const say = (port: number, pids: number[]) => process.stdout.write(JSON.stringify({ port, pids }) + '\n');
  if (isServingWorker()) {
    const scoring = createScoringServer(trivialPredictor());
    const { port, host } = await scoring.listen(0, '127.0.0.1');
    await serveAsWorker(scoring, { port, host, detail: 'trivial' });
  } else if (workers > 1) {
    const workerPids = () => Object.values(cluster.workers ?? {}).map((w) => w!.process.pid!);
    await runWorkerPool({ workers, drainTimeoutMs: 5_000, onListening: (at) => say(at.port, [process.pid, ...workerPids()]) });
  } else {
    const scoring = createScoringServer(trivialPredictor());
    say((await scoring.listen(0, '127.0.0.1')).port, [process.pid]);
    await serveUntilSignal(scoring);
  }
  // Idle keep-alive connections of the load generator would hold the exit for their timeout.
  process.exit(0);
}

/** In-process predict, `rounds` times; the round with the median single-record throughput is kept. */
async function measureInProcess(predictor: Predictor, records: unknown[], seconds: number, rounds: number): Promise<InProcess> {
  for (let i = 0; i < Math.min(200, records.length * 4); i++) await predictor.predict([records[i % records.length]]); // warm-up
  const results: InProcess[] = [];
  for (let r = 0; r < rounds; r++) results.push(await inProcessRound(predictor, records, seconds));
  results.sort((a, b) => a.single.recordsPerSec - b.single.recordsPerSec);
  return results[Math.floor(results.length / 2)];
}

async function inProcessRound(predictor: Predictor, records: unknown[], seconds: number): Promise<InProcess> {
  const times: number[] = [];
  const t0 = performance.now();
  const until = t0 + seconds * 1000;
  let i = 0;
  while (performance.now() < until) {
    const s = performance.now();
    await predictor.predict([records[i++ % records.length]]);
    times.push(performance.now() - s);
  }
  const singleMs = performance.now() - t0;
  times.sort((a, b) => a - b);
  const batch = Array.from({ length: 64 }, (_, k) => records[k % records.length]);
  const b0 = performance.now();
  let batched = 0;
  while (performance.now() - b0 < (seconds * 1000) / 2) {
    await predictor.predict(batch);
    batched += batch.length;
  }
  return {
    single: {
      recordsPerSec: round(times.length / (singleMs / 1000), 1),
      p50Ms: round(percentile(times, 0.5), 4),
      p99Ms: round(percentile(times, 0.99), 4),
      meanMs: round(singleMs / times.length, 4),
    },
    batched64: { recordsPerSec: round(batched / ((performance.now() - b0) / 1000), 1) },
  };
}

function requestBodies(records: unknown[]): string[] {
  return records.slice(0, 256).map((r) => JSON.stringify({ inputs: [r] }));
}

/**
 * autocannon in a child process (one for the whole benchmark), so load generation does not share the server's event
 * loop; latencies come from its per-response timings, which are finer than its millisecond histogram.
 */
class LoadGenerator {
  private readonly child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--drive'], { stdio: ['pipe', 'pipe', 'inherit'] });
  private readonly lines = createInterface({ input: this.child.stdout });
  private waiting: Array<(line: string) => void> = [];

  constructor() {
    this.lines.on('line', (line) => this.waiting.shift()?.(line));
  }

  /** The server must run in this process: its CPU time is measured here. */
  run(port: number, bodies: string[], connections: number, durationS: number): Promise<LoadPoint> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`load generator exited with ${code}`));
      this.child.once('exit', onExit);
      const cpu0 = process.cpuUsage();
      this.waiting.push((line) => {
        const cpu = process.cpuUsage(cpu0);
        this.child.removeListener('exit', onExit);
        const point = JSON.parse(line) as LoadPoint;
        point.serverCpuUsPerRequest = round((cpu.user + cpu.system) / Math.max(1, point.requests), 2);
        resolve(point);
      });
      this.child.stdin.write(JSON.stringify({ port, bodies, connections, durationS }) + '\n');
    });
  }

  close(): void {
    this.child.stdin.end();
  }
}

interface AutocannonInstance {
  on(event: 'response', listener: (client: unknown, statusCode: number, bytes: number, responseTimeMs: number) => void): void;
  on(event: 'done', listener: (result: { requests: { total: number }; non2xx: number; errors: number; duration: number }) => void): void;
}
type Autocannon = (opts: Record<string, unknown>) => AutocannonInstance;

/** The child side of LoadGenerator: one JSON job per stdin line, one JSON result per stdout line. */
async function loadGenerator(): Promise<void> {
  const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
  for await (const line of createInterface({ input: process.stdin })) {
    const { port, bodies, connections, durationS } = JSON.parse(line) as { port: number; bodies: string[]; connections: number; durationS: number };
    const latencies: number[] = [];
    const instance = autocannon({
      url: `http://127.0.0.1:${port}`,
      connections,
      duration: durationS,
      requests: bodies.map((body) => ({ method: 'POST', path: '/invocations', headers: { 'content-type': 'application/json' }, body })),
    });
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status === 200) latencies.push(ms);
    });
    const result = await new Promise<{ requests: { total: number }; non2xx: number; errors: number; duration: number }>((resolve) => instance.on('done', resolve));
    latencies.sort((a, b) => a - b);
    const point: LoadPoint = {
      connections,
      requestsPerSec: round(result.requests.total / result.duration, 1),
      p50Ms: round(percentile(latencies, 0.5), 4),
      p99Ms: round(percentile(latencies, 0.99), 4),
      requests: result.requests.total,
      non2xx: result.non2xx,
      errors: result.errors,
      serverCpuUsPerRequest: NaN, // filled in by the serving process
    };
    process.stdout.write(JSON.stringify(point) + '\n');
  }
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Email-like records of varied length (a few hundred bytes to a few kilobytes), deterministic. */
export function syntheticEmails(n = 64): Array<{ text: string }> {
  const words = ['meeting', 'invoice', 'free', 'offer', 'report', 'click', 'tomorrow', 'winner', 'project', 'update', 'prize', 'schedule', 'account', 'urgent'];
  let seed = 42;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: n }, (_, i) => {
    const body = Array.from({ length: 40 + Math.floor(next() * 400) }, () => words[Math.floor(next() * words.length)]).join(' ');
    return { text: `From: sender${i}@example.com\r\nTo: you@example.org\r\nSubject: ${words[i % words.length]} ${i}\r\n\r\n${body}\r\n` };
  });
}

/** Loads an inference artifact; imported lazily so the trivial benchmark does not load TensorFlow.js. */
async function loadPredictor(artifactPath: string): Promise<Predictor> {
  const { loadArtifact } = await import('../src/artifact/load.ts');
  return loadArtifact(artifactPath);
}

function readRecords(file: string): unknown[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as unknown);
}

async function main(argv: string[]): Promise<void> {
  const flags = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith('--')) flags.set(argv[i].slice(2), argv[++i] ?? '');
    else positional.push(argv[i]);
  }
  const options: BenchOptions = {
    durationS: Number(flags.get('duration') ?? defaults.durationS),
    rounds: Number(flags.get('rounds') ?? defaults.rounds),
    connections: (flags.get('connections') ?? defaults.connections.join(',')).split(',').map(Number),
  };
  const artifact = positional[0];
  // Without --records, email-like `{ text }` records: the flagship spam filter's business object.
  const records = flags.has('records') ? readRecords(flags.get('records')!) : syntheticEmails();
  const machine = { node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', loadavg: os.loadavg().map((x) => round(x, 2)) };
  const loaded = artifact ? await loadPredictor(artifact) : undefined;
  // The baseline always runs the trivial predictor on email-like records, whatever the model takes.
  const emails = syntheticEmails();
  const baseline = await benchAgainstBare(emails, options);
  const workers = await benchWorkers(emails, Number(flags.get('workers') ?? os.availableParallelism()), options);
  let model: BenchServeResult & { name: string };
  if (loaded) {
    const predictor = loaded;
    model = { name: predictor.manifest.model, ...(await benchServe(predictor, records, options)) };
  } else {
    // The trivial predictor is the model: reuse the kiln figures measured against the bare server.
    const predictor = trivialPredictor();
    const inProcess = await measureInProcess(predictor, emails, Math.min(2, options.durationS), options.rounds);
    model = { name: 'trivial', http: baseline.kilnTrivial, inProcess, overhead: overheadOf(baseline.kilnTrivial, inProcess) };
  }
  const result = { benchmark: 'serve', command: `npx tsx bench/serve.ts ${argv.join(' ')}`.trim(), machine, options, records: records.length, model, baseline, workers };
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  if (process.argv.includes('--drive')) await loadGenerator();
  else if (process.argv.includes('--serve-trivial')) await serveTrivial(Number(process.argv[process.argv.indexOf('--serve-trivial') + 1]));
  else {
    try {
      await main(process.argv.slice(2));
    } catch (e) {
      process.stderr.write(`bench/serve.ts: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 2;
    }
  }
}
