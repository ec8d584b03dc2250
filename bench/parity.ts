// Benchmark of the parity replay on a built artifact: the whole check as `kiln package` runs it (two fresh processes),
// and, in this process, each of its passes; the baseline is the replay parity did before (one batch of all).
//
//   npx tsx bench/parity.ts <artifact-dir> [--rounds 1] [--all-alone]
//
// --all-alone also times every record alone, to show what the seeded sample of ALONE_LIMIT saves. Prints JSON.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadArtifact } from '../src/artifact/load.ts';
import { PARITY_FILE } from '../src/artifact/manifest.ts';
import { checkParity } from '../src/artifact/parity.ts';
import { aloneGrouping, partitionGrouping, ALONE_LIMIT, type ReplayGrouping } from '../src/artifact/replay-plan.ts';
import { kilnVersion } from '../src/version.ts';

const args = process.argv.slice(2);
const dir = path.resolve(args[0] ?? '');
const rounds = Number(args[args.indexOf('--rounds') + 1] ?? 1) || 1;
const allAlone = args.includes('--all-alone');

async function timed(f: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await f();
  return Math.round(performance.now() - t);
}

const inputs = (await fs.readFile(path.join(dir, PARITY_FILE), 'utf8'))
  .split('\n')
  .filter(Boolean)
  .map((l) => (JSON.parse(l) as { input: unknown }).input);
const out: Record<string, unknown> = { kiln: kilnVersion, node: process.version, cpus: os.cpus().length, load: os.loadavg()[0], records: inputs.length, aloneLimit: ALONE_LIMIT, rounds: [] as unknown[] };
for (let r = 0; r < rounds; r++) {
  const round: Record<string, number> = {};
  round.checkParityMs = await timed(() => checkParity(dir, null));
  let artifact!: Awaited<ReturnType<typeof loadArtifact>>;
  round.loadMs = await timed(async () => (artifact = await loadArtifact(dir)));
  const run = (g: ReplayGrouping) => timed(async () => {
    for (const b of g.batches) await artifact.predict(b.map((i) => inputs[i]));
  });
  // Baseline: what parity replayed before, one batch of all (after the load, as in its fresh process).
  round.baselineOneBatchMs = await run({ name: 'one batch', batches: [inputs.map((_, i) => i)] });
  round.aloneSampleMs = await run(aloneGrouping(inputs.length));
  round.partitionMs = await run(partitionGrouping(inputs.length));
  if (allAlone) round.allAloneMs = await run(aloneGrouping(inputs.length, Infinity));
  (out.rounds as unknown[]).push(round);
}
process.stdout.write(JSON.stringify(out, null, 2) + '\n');
