// Diagnostics that ML code (kiln's and pipeline node functions') raises for bad parameters and data.
import { KilnError, diag, didYouMean } from '../diagnostics/index.ts';

/** KILN5003: `what` must be `expected` but is `actual` (a parameter out of range, malformed data). */
export function invalidParameter(what: string, expected: string, actual: unknown): KilnError {
  const shown = typeof actual === 'string' ? `'${actual}'` : Array.isArray(actual) ? JSON.stringify(actual) : String(actual);
  return new KilnError(diag('KILN5003', { what, expected, actual: shown }));
}

/** KILN5002: an unknown name among known ones, with "did you mean". */
export function unknownValue(what: string, value: string, allowed: readonly string[]): KilnError {
  return new KilnError(diag('KILN5002', { what, value, suggestion: didYouMean(value, allowed), allowed: allowed.join(', ') }));
}

/** KILN5004: two inputs that must have one row per example do not. */
export function rowCountMismatch(what: string, left: string, leftCount: number, right: string, rightCount: number): KilnError {
  return new KilnError(diag('KILN5004', { what, left, leftCount, right, rightCount }));
}

/** KILN5007: features of another width than the model's input. */
export function featureWidthMismatch(actual: number, expected: number): KilnError {
  return new KilnError(diag('KILN5007', { actual, expected }));
}
