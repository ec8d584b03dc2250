// Parameters as the store keeps them: flattened to dotted keys (`split.test_ratio`), each value a JSON leaf;
// and the checks every recorded key (parameter, metric, tag, file name) goes through.
import type { JsonValue } from '../ir/types.ts';
import { diag, KilnError } from '../diagnostics/index.ts';

const MAX_KEY = 250;

function invalid(what: string, name: string, reason: string, fix: string): KilnError {
  return new KilnError(diag('KILN4011', { what, name, reason, fix }));
}

/** Refuses empty, over-long or control-character keys; they cannot be shown or searched. */
export function checkKey(what: string, key: string): void {
  const fix = `Use a ${what} name of 1 to ${MAX_KEY} printable characters.`;
  if (typeof key !== 'string' || key.length === 0) throw invalid(what, String(key), 'it is empty', fix);
  if (key.length > MAX_KEY) throw invalid(what, key.slice(0, 40) + '…', `it is ${key.length} characters long`, fix);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(key)) throw invalid(what, JSON.stringify(key), 'it contains control characters', fix);
}

/** A file name of a run: a relative path without `..`, so that it can be written back out under a folder. */
export function checkFileName(name: string): void {
  checkKey('file name', name);
  const parts = name.split(/[\\/]/);
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name) || parts.includes('..') || parts.includes('')) {
    throw invalid('file name', name, 'it must be a relative path without empty or .. segments', 'Name the file like curves/training.svg.');
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}

function checkJson(key: string, v: unknown): JsonValue {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw invalid('parameter', key, `its value ${v} is not a finite number`, 'Parameters are JSON values.');
    return v;
  }
  if (Array.isArray(v)) return v.map((x, i) => checkJson(`${key}[${i}]`, x));
  if (isPlainObject(v)) {
    const out: Record<string, JsonValue> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = checkJson(`${key}.${k}`, x);
    return out;
  }
  throw invalid('parameter', key, `its value is a ${typeof v}, not a JSON value`, 'Parameters are JSON values: numbers, strings, booleans, null, arrays.');
}

/** `{ split: { test_ratio: 0.2 } }` → `{ 'split.test_ratio': 0.2 }`. Arrays and empty objects are leaves. Already-flat keys pass through. */
export function flattenParams(params: Record<string, unknown>, prefix = ''): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    const key = prefix ? `${prefix}.${k}` : k;
    if (isPlainObject(v) && Object.keys(v).length > 0) Object.assign(out, flattenParams(v, key));
    else {
      checkKey('parameter', key);
      out[key] = checkJson(key, v);
    }
  }
  return out;
}

/** How a parameter is compared by run filters: as text (strings as they are, others as JSON) and as a number when it is one. */
export function paramColumns(value: JsonValue): { json: string; text: string; num: number | null } {
  const json = JSON.stringify(value);
  return { json, text: typeof value === 'string' ? value : json, num: typeof value === 'number' ? value : null };
}
