// A separate kiln process writing one run to a shared store, for the concurrency and crash tests.
//   complete <storeDir> <goFile> <n>: says "ready", waits for <goFile>, then opens the store and writes a whole run.
//   hang <storeDir>: starts a run and logs metrics until killed; says "running <id>" once it is under way.
import fs from 'node:fs';
import { openTracking } from '../../src/tracking/index.ts';

const [mode, storeDir, goFile, n] = process.argv.slice(2);

const git = { root: '/r', commit: 'f'.repeat(40), branch: 'main', dirty: false, uncommitted: [], diffHash: null };
const versions = { kiln: '0.1.0', node: process.version, tfjs: null };

if (mode === 'complete') {
  process.stdout.write('ready\n');
  while (!fs.existsSync(goFile)) await new Promise((r) => setTimeout(r, 2));
  const t = openTracking(storeDir);
  const run = await t.runs.createRun({ pipeline: 'spam', command: ['child', n], git, versions, backend: 'cpu', params: { worker: Number(n), split: { test_ratio: 0.2 } } });
  for (let step = 0; step < 10; step++) await t.runs.logMetrics(run.id, { loss: 1 / (step + 1), worker: Number(n) }, { step });
  const node = await t.runs.startNode(run.id, 'train', { fingerprint: `fp-${n}` });
  const object = await t.objects.putBytes(`model of worker ${n}`);
  await t.runs.finishNode(node, { status: 'FINISHED', outputs: { classifier: { sha256: object, object } } });
  await t.runs.logFile(run.id, 'curves.svg', `<svg>${n}</svg>`);
  const version = await t.registry.registerVersion({ model: 'shared', artifactPath: `dist/${n}`, artifactSha256: object, runId: run.id, commit: git.commit });
  await t.runs.finishRun(run.id, { status: 'FINISHED' });
  t.close();
  process.stdout.write(JSON.stringify({ runId: run.id, version: version.version }) + '\n');
} else if (mode === 'hang') {
  const t = openTracking(storeDir);
  const run = await t.runs.createRun({ pipeline: 'spam', command: ['child', 'hang'], git, versions, backend: 'cpu', params: { seed: 1 } });
  await t.runs.startNode(run.id, 'train', { fingerprint: 'fp' });
  for (let step = 0; ; step++) {
    await t.runs.logMetrics(run.id, { loss: 1 / (step + 1), accuracy: step / 1e6 }, { step });
    if (step === 50) process.stdout.write(`running ${run.id}\n`);
  }
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}
