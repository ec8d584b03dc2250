// Checks a catalog entry's `options` against what its dataset type understands, before anything is read or written.
import type { DatasetIR, JsonValue } from '../../ir/types.ts';
import { diag, didYouMean, KilnError, type Diagnostic } from '../../diagnostics/index.ts';

/** One option: what it must be, for the message, and whether a value is that. */
export interface OptionRule {
  expected: string;
  accepts(value: JsonValue): boolean;
  /** What to do, for the hint. */
  fix?: string;
}

export const booleanOption: OptionRule = { expected: 'true or false', accepts: (v) => typeof v === 'boolean' };

export function integerOption(min: number, max: number): OptionRule {
  return { expected: `an integer from ${min} to ${max}`, accepts: (v) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max };
}

export function oneOfOption(values: readonly string[]): OptionRule {
  return { expected: `one of ${values.join(', ')}`, accepts: (v) => typeof v === 'string' && values.includes(v) };
}

export const charOption: OptionRule = {
  expected: 'a single character',
  accepts: (v) => typeof v === 'string' && [...v].length === 1 && v !== '\n' && v !== '\r' && v !== '"',
  fix: "Use one character other than a quote or a line break, such as ',' or ';' or '\\t'.",
};

export const stringOption: OptionRule = { expected: 'a string', accepts: (v) => typeof v === 'string' };

/** Throws every problem with `entry.options` at once: unknown keys (with suggestions) and values of the wrong kind. */
export function checkOptions(entry: DatasetIR, rules: Record<string, OptionRule>, typeLabel: string = entry.type): void {
  const problems: Diagnostic[] = [];
  const allowed = Object.keys(rules);
  for (const [key, value] of Object.entries(entry.options ?? {})) {
    const rule = Object.hasOwn(rules, key) ? rules[key] : undefined;
    if (!rule) {
      problems.push(diag('KILN3106', { key, type: typeLabel, dataset: entry.name, suggestion: didYouMean(key, allowed), allowed: allowed.length ? allowed.join(', ') : '(none)' }, entry.location));
    } else if (!rule.accepts(value)) {
      problems.push(diag('KILN3107', { key, dataset: entry.name, expected: rule.expected, fix: rule.fix ?? `Set options.${key} to ${rule.expected}.` }, entry.location));
    }
  }
  if (problems.length > 0) throw new KilnError(problems);
}
