// Runs in a fresh process: loads a built artifact and replays its parity records, printing a JSON verdict on stdout.
// Mode `batches`: one batch of all (as training computed them in one node run), then one at a time, then a seeded
// random partition. Mode `hermetic`: one batch of all, in a fresh working directory, with a reduced environment and a
// moved clock; on a difference it puts them back one by one to name the one that mattered.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadArtifact, type LoadedArtifact } from './load.ts';
import { ENTRY_FILE, PARITY_FILE } from './manifest.ts';
import { trapMathRandom } from './random-trap.ts';
import { aloneGrouping, partitionGrouping, REPLAY_SEED, type ReplayGrouping } from './replay-plan.ts';
import { CLOCK_SHIFT_TEXT, shiftClock } from './shifted-clock.ts';
import { canonicalJson } from '../runtime/runner.ts';
import { isKilnError } from '../diagnostics/diagnostic.ts';

export type ParityVerdict =
  | { ok: true; records: number; backend: string | null; alone: number; partition: number[] }
  | { ok: false; code: 'KILN6006' | 'KILN6011' | 'KILN6014' | 'KILN6015' | 'KILN6016'; args: Record<string, string | number> }
  | { ok: false; error: unknown };

/** Variables the artifact's own set-up may need (finding executables, temp folders, native libraries, kiln's backend options). */
const KEPT_ENV = /^(PATH|Path|SYSTEMROOT|SystemRoot|TMPDIR|TEMP|TMP|LD_LIBRARY_PATH|NODE_OPTIONS|KILN_[A-Z_]+)$/;

const dir = path.resolve(process.argv[2]);
const mode = process.argv[3];
const random = trapMathRandom(path.join(dir, ENTRY_FILE));

function say(v: ParityVerdict): void {
  process.stdout.write(JSON.stringify(v) + '\n');
}

function describe(e: unknown): string {
  return isKilnError(e) ? e.message : e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

function randomVerdict(): ParityVerdict | null {
  const call = random.first();
  if (!call) return null;
  const where = call.file ? ` (in ${call.file}${call.fn ? `, function ${call.fn}` : ''})` : call.fn ? ` (function ${call.fn})` : '';
  return { ok: false, code: 'KILN6016', args: { where } };
}

/** The first record whose output differs from training's, in file order, with what it gave. */
async function firstDifference(artifact: LoadedArtifact, expected: string[], inputs: unknown[], grouping: ReplayGrouping): Promise<{ record: number; got: string; size: number } | null> {
  let first: { record: number; got: string; size: number } | null = null;
  for (const batch of grouping.batches) {
    let outputs: unknown[];
    try {
      outputs = await artifact.predict(batch.map((i) => inputs[i]));
    } catch (e) {
      const record = Math.min(...batch);
      if (!first || record < first.record) first = { record, got: `an error (${describe(e)})`, size: batch.length };
      continue;
    }
    for (let k = 0; k < batch.length; k++) {
      const got = canonicalJson(outputs[k]);
      if (got !== expected[batch[k]] && (!first || batch[k] < first.record)) first = { record: batch[k], got, size: batch.length };
    }
  }
  return first;
}

async function replayBatches(artifact: LoadedArtifact, expected: string[], inputs: unknown[]): Promise<ParityVerdict> {
  const n = inputs.length;
  const whole = await firstDifference(artifact, expected, inputs, { name: 'in one batch', batches: [inputs.map((_, i) => i)] });
  if (whole) return { ok: false, code: 'KILN6006', args: { record: whole.record + 1, got: whole.got, expected: expected[whole.record] } };
  const alone = aloneGrouping(n);
  const partition = partitionGrouping(n);
  for (const grouping of [alone, partition]) {
    const d = await firstDifference(artifact, expected, inputs, grouping);
    if (d) {
      const how = grouping === alone ? `alone (a batch of 1${grouping.name === 'one at a time' ? '' : `; ${grouping.name}`})` : `in a batch of ${d.size} (${grouping.name}, seed '${REPLAY_SEED}')`;
      return { ok: false, code: 'KILN6011', args: { record: d.record + 1, got: d.got, expected: expected[d.record], how, records: n } };
    }
  }
  return { ok: true, records: n, backend: artifact.backend, alone: alone.batches.length, partition: partition.batches.map((b) => b.length) };
}

/** Runs the artifact away from everything but its inputs and fitted state, then puts things back to find the cause. */
async function replayHermetic(expected: string[], inputs: unknown[]): Promise<ParityVerdict> {
  const home = process.cwd();
  const savedEnv = { ...process.env };
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'kiln-parity-'));
  for (const k of Object.keys(process.env)) if (!KEPT_ENV.test(k)) delete process.env[k];
  process.chdir(scratch);
  const restoreClock = shiftClock();
  const changes = `in a fresh working directory (${scratch}), with environment variables removed and the clock moved ${CLOCK_SHIFT_TEXT}`;
  try {
    let artifact: LoadedArtifact;
    try {
      artifact = await loadArtifact(dir, { trust: 'manifest' });
    } catch (e) {
      return randomVerdict() ?? { ok: false, code: 'KILN6015', args: { change: `the artifact failed to load ${changes}`, detail: describe(e) } };
    }
    const all = { name: 'in one batch', batches: [inputs.map((_, i) => i)] };
    const d = await firstDifference(artifact, expected, inputs, all);
    if (!d) return { ok: true, records: inputs.length, backend: artifact.backend, alone: 0, partition: [] };
    const what = (x: { record: number; got: string }) => `record ${x.record + 1} gives ${x.got}, but training computed ${expected[x.record]}`;
    // Put back one change at a time; the first after which the artifact agrees with training is the cause.
    restoreClock();
    if (!(await firstDifference(artifact, expected, inputs, all))) return { ok: false, code: 'KILN6014', args: { shift: CLOCK_SHIFT_TEXT, record: d.record + 1, got: d.got, expected: expected[d.record] } };
    Object.assign(process.env, savedEnv);
    if (!(await firstDifference(artifact, expected, inputs, all))) return { ok: false, code: 'KILN6015', args: { change: 'output changed when environment variables were removed', detail: what(d) } };
    process.chdir(home);
    if (!(await firstDifference(artifact, expected, inputs, all))) return { ok: false, code: 'KILN6015', args: { change: `output changed in another working directory (${scratch})`, detail: what(d) } };
    return { ok: false, code: 'KILN6015', args: { change: `output changed ${changes}`, detail: what(d) } };
  } finally {
    process.chdir(home);
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

try {
  const pairs = (await fs.readFile(path.join(dir, PARITY_FILE), 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { input: unknown; output: unknown });
  const inputs = pairs.map((p) => p.input);
  const expected = pairs.map((p) => canonicalJson(p.output));
  if (mode === 'hermetic') {
    const v = await replayHermetic(expected, inputs);
    say(randomVerdict() ?? v);
  } else {
    const v = await replayBatches(await loadArtifact(dir, { trust: 'manifest' }), expected, inputs);
    say(randomVerdict() ?? v);
  }
} catch (e) {
  say(randomVerdict() ?? { ok: false, error: isKilnError(e) ? e.diagnostics : String((e as Error)?.stack ?? e) });
}
