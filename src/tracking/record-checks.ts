// What every run store checks before it writes (the same mistakes get the same KILN4011 on SQLite and PostgreSQL).
import { diag, KilnError } from '../diagnostics/index.ts';
import { HASH_PATTERN } from './objects.ts';
import { checkKey } from './params.ts';
import { GIT_TAGS } from './filter.ts';

export function checkHash(what: string, name: string, hash: unknown): void {
  if (typeof hash !== 'string' || !HASH_PATTERN.test(hash)) {
    throw new KilnError(diag('KILN4011', { what, name, reason: `'${String(hash)}' is not a sha256 (64 lowercase hexadecimal characters)`, fix: 'Pass the hash from hashPath() or the object store.' }));
  }
}

export function checkDatasets(direction: string, datasets: Record<string, { sha256: string; object?: string | null }>): void {
  for (const [name, d] of Object.entries(datasets)) {
    checkKey('dataset', name);
    checkHash(`${direction} hash of dataset`, name, d.sha256);
    if (d.object !== undefined && d.object !== null) checkHash(`snapshot of dataset`, name, d.object);
  }
}

export function checkTag(key: string, value: unknown): void {
  checkKey('tag', key);
  if (GIT_TAGS[key]) {
    throw new KilnError(diag('KILN4011', { what: 'tag', name: key, reason: 'it is set from the git stamp of the run', fix: `Choose another tag name; tags.${key} in a search reads the git stamp.` }));
  }
  if (typeof value !== 'string') throw new KilnError(diag('KILN4011', { what: 'tag', name: key, reason: `its value is a ${typeof value}, not a string`, fix: 'Tag values are strings.' }));
}

export function checkMetrics(metrics: Record<string, number>, step: number): void {
  if (!Number.isSafeInteger(step)) {
    throw new KilnError(diag('KILN4011', { what: 'metric step', name: String(step), reason: 'a step is a whole number', fix: 'Pass the epoch or iteration number as the step.' }));
  }
  for (const [key, value] of Object.entries(metrics)) {
    checkKey('metric', key);
    if (typeof value !== 'number') {
      throw new KilnError(diag('KILN4011', { what: 'metric', name: key, reason: `its value is a ${typeof value}, not a number`, fix: 'Metrics are numbers; record text as a tag or a file.' }));
    }
  }
}

/** Inputs as the stores record them: dataset → { sha256 }. */
export const inputDatasets = (inputs: Record<string, string> | undefined): Record<string, { sha256: string }> =>
  Object.fromEntries(Object.entries(inputs ?? {}).map(([k, sha256]) => [k, { sha256 }]));
