// `--params a.b=value` overrides, typed by the value they replace (a number stays a number).
import { diag, KilnError } from '../diagnostics/diagnostic.ts';
import { didYouMean } from '../diagnostics/didyoumean.ts';
import type { Diagnostic } from '../diagnostics/types.ts';
import { parameterKeys, parameterValue } from '../ir/parameter-tree.ts';
import type { JsonValue } from '../ir/types.ts';

/**
 * Splits `a=1,b.c=x` (several flags allowed); a comma inside [] or {} or quotes belongs to the value. A malformed
 * part is pushed to `errors` (KILN3007) when given, so that every bad override is reported at once; else it throws.
 */
export function splitOverrides(args: string[], errors?: Diagnostic[]): Array<{ key: string; value: string; arg: string }> {
  const out: Array<{ key: string; value: string; arg: string }> = [];
  for (const arg of args) {
    let depth = 0;
    let quote: string | null = null;
    let start = 0;
    const parts: string[] = [];
    for (let i = 0; i < arg.length; i++) {
      const c = arg[i];
      if (quote) {
        if (c === quote) quote = null;
      } else if (c === '"' || c === "'") quote = c;
      else if (c === '[' || c === '{') depth++;
      else if (c === ']' || c === '}') depth--;
      else if (c === ',' && depth === 0) {
        parts.push(arg.slice(start, i));
        start = i + 1;
      }
    }
    parts.push(arg.slice(start));
    for (const part of parts) {
      const eq = part.indexOf('=');
      const key = part.slice(0, eq).trim();
      if (eq <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(key)) {
        const d = diag('KILN3007', { arg: part });
        if (!errors) throw new KilnError(d);
        errors.push(d);
        continue;
      }
      out.push({ key, value: part.slice(eq + 1), arg: part });
    }
  }
  return out;
}

function kindOf(v: JsonValue): string {
  return v === null ? 'null' : Array.isArray(v) ? 'list' : typeof v === 'object' ? 'mapping' : typeof v;
}

function coerce(key: string, text: string, current: JsonValue): JsonValue | Diagnostic {
  const fail = (problem: string, fix: string) => diag('KILN3006', { key, value: text, problem, fix });
  switch (kindOf(current)) {
    case 'number': {
      const n = Number(text.trim());
      if (text.trim() === '' || !Number.isFinite(n)) return fail('not a number', `${key} is a number in parameters.yaml (now ${JSON.stringify(current)}); give a number.`);
      return n;
    }
    case 'boolean':
      if (text === 'true' || text === 'false') return text === 'true';
      return fail('not true or false', `${key} is a boolean in parameters.yaml; give true or false.`);
    case 'string':
      return text.length >= 2 && ((text.startsWith('"') && text.endsWith('"')) || (text.startsWith("'") && text.endsWith("'"))) ? text.slice(1, -1) : text;
    default: {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        return fail(`not a JSON ${kindOf(current)}`, `${key} is a ${kindOf(current)} in parameters.yaml; give it as JSON, e.g. ${JSON.stringify(current)}.`);
      }
      if (kindOf(parsed as JsonValue) !== kindOf(current)) return fail(`a ${kindOf(parsed as JsonValue)}, not a ${kindOf(current)}`, `${key} is a ${kindOf(current)} in parameters.yaml.`);
      return parsed as JsonValue;
    }
  }
}

function setAt(tree: Record<string, JsonValue>, dotted: string, value: JsonValue): Record<string, JsonValue> {
  const [head, ...rest] = dotted.split('.');
  const copy: Record<string, JsonValue> = { ...tree };
  copy[head] = rest.length === 0 ? value : setAt(tree[head] as Record<string, JsonValue>, rest.join('.'), value);
  return copy;
}

/** A new parameter tree with the overrides applied; throws KilnError listing every bad override. */
export function applyOverrides(values: Record<string, JsonValue>, args: string[]): { values: Record<string, JsonValue>; applied: Record<string, JsonValue> } {
  const errors: Diagnostic[] = [];
  const overrides = splitOverrides(args, errors);
  const keys = parameterKeys(values);
  let tree = values;
  const applied: Record<string, JsonValue> = {};
  for (const o of overrides) {
    const current = parameterValue(values, o.key);
    if (current === undefined) {
      errors.push(diag('KILN3005', { key: o.key, suggestion: didYouMean(o.key, keys), known: keys.slice(0, 30).join(', ') }));
      continue;
    }
    const v = coerce(o.key, o.value, current);
    if (v !== null && typeof v === 'object' && 'code' in v && 'severity' in v) {
      errors.push(v as Diagnostic);
      continue;
    }
    tree = setAt(tree, o.key, v as JsonValue);
    applied[o.key] = v as JsonValue;
  }
  if (errors.length) throw new KilnError(errors);
  return { values: tree, applied };
}
