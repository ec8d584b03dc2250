// Where a tracked node's time goes: runs the tracked chain of bench/runner.ts (tracker and run recorder on a fresh
// temporary store, until the records and snapshots are durable) under V8's CPU profiler and sums self time by function
// and by file. Self time of a native call (`open`, `fdatasync`) is time the main thread spent in that system call.
// Also prints the process's user and system CPU, since system calls made on libuv's threads are not in the profile.
//
//   npx tsx bench/tracked-profile.ts [--nodes 1000] [--top 25] [--save profile.cpuprofile]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Session } from 'node:inspector/promises';
import { ObjectStoreTracker } from '../src/runtime/cache.ts';
import { runNodes } from '../src/runtime/runner.ts';
import { openTracking } from '../src/tracking/index.ts';
import { RunRecorder } from '../src/tracking/recorder.ts';
import { chain, options } from './tracked-chain.ts';

const arg = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const NODES = Number(arg('--nodes') ?? 1000);
const TOP = Number(arg('--top') ?? 25);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-bench-profile-'));
const session = new Session();
session.connect();
try {
  fs.writeFileSync(path.join(root, 'nodes.ts'), 'export const step = (x: number) => x + 1;\n');
  const c = chain(NODES, root);
  const tracking = openTracking(path.join(root, '.kiln'));
  try {
    const tracker = new ObjectStoreTracker(root, tracking.runs, tracking.objects);
    await tracker.codeHash(c.nodes[0]); // esbuild's start-up is once per process, not per node
    const start = { pipeline: 'bench', command: ['bench'], git: null, versions: { kiln: '0', node: process.version, tfjs: null }, backend: null, params: {} };
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
    const c0 = process.cpuUsage();
    const recorder = await RunRecorder.start(tracking.runs, start);
    const res = await runNodes(options(c, { tracker, useCache: true, hooks: [recorder.hooks] }));
    await recorder.finish('FINISHED');
    await tracker.flush();
    const cpu = process.cpuUsage(c0);
    const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: Profile };
    if (res.status !== 'FINISHED') throw new Error(`tracked run did not finish: ${res.status}`);
    const save = arg('--save');
    if (save) fs.writeFileSync(save, JSON.stringify(profile));
    console.log(JSON.stringify({ bench: 'tracked-profile', nodes: NODES, cpuPerNodeUs: { user: Math.round(cpu.user / NODES), system: Math.round(cpu.system / NODES) }, ...summarize(profile) }, null, 2));
  } finally {
    tracking.close();
  }
} finally {
  session.disconnect();
  fs.rmSync(root, { recursive: true, force: true });
}

/** Self time per function and per file, in µs per node, the largest first; idle time left out. */
function summarize(profile: Profile): { byFunction: Record<string, number>; byFile: Record<string, number> } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const f = byId.get(id)!.callFrame;
    if (f.functionName === '(idle)') return;
    const where = f.url ? f.url.replace(/^file:\/\//, '').replace(process.cwd() + '/', '').replace(/.*node_modules\//, '') : '(native)';
    const dt = profile.timeDeltas[i] ?? 0;
    const key = `${f.functionName || '(anonymous)'} ${where}${f.url ? `:${f.lineNumber + 1}` : ''}`;
    fn.set(key, (fn.get(key) ?? 0) + dt);
    file.set(where, (file.get(where) ?? 0) + dt);
  });
  const top = (m: Map<string, number>) => Object.fromEntries([...m].sort((a, b) => b[1] - a[1]).slice(0, TOP).map(([k, us]) => [k, Math.round((us / NODES) * 10) / 10]));
  return { byFunction: top(fn), byFile: top(file) };
}
