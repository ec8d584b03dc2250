// `kiln runs get <run> <file> [--out path]`: writes one file a run logged (a training-curves image, say) out of the
// object store, verified against its hash, without half-written results.
import fs from 'node:fs';
import path from 'node:path';
import { diag, KilnError, isKilnError } from '../diagnostics/index.ts';
import { didYouMean } from '../diagnostics/didyoumean.ts';
import type { Tracking } from '../tracking/index.ts';

/** Where the file goes: `out` itself, inside `out` when it is a folder, or the file's own name in `cwd`. */
function destination(cwd: string, name: string, out: string | undefined): string {
  const base = name.split('/').pop()!;
  if (out === undefined) return path.resolve(cwd, base);
  const abs = path.resolve(cwd, out);
  return fs.statSync(abs, { throwIfNoEntry: false })?.isDirectory() ? path.join(abs, base) : abs;
}

/** Writes file `name` of run `run` and returns the path written. */
export async function getRunFile(tracking: Tracking, cwd: string, run: string, name: string, out: string | undefined): Promise<string> {
  const record = await tracking.runs.getRun(run);
  const file = record.files.find((f) => f.name === name);
  if (!file) {
    const names = record.files.map((f) => f.name);
    throw new KilnError(diag('KILN4030', { run: record.id, name, suggestion: didYouMean(name, names).replace(/^ did/, ' Did'), available: names.join(', ') || '(none)' }));
  }
  let target = path.resolve(cwd, out ?? '.');
  try {
    target = destination(cwd, file.name, out);
    await tracking.runs.objects.restore(file.object, target);
  } catch (e) {
    if (isKilnError(e)) throw e;
    throw new KilnError(diag('KILN4031', { path: target, reason: (e as Error).message }));
  }
  return target;
}
