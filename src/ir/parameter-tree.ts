// Reading a resolved parameter tree, and telling parameter references (`params:a.b`) from dataset names. Plain data
// only, no YAML: the runtime reads parameters through this without loading the declaration parser.
import type { JsonValue } from './types.ts';

export const PARAMS = 'params:';
export const isParam = (d: string) => d.startsWith(PARAMS);

/** The value at a dotted key, or undefined. */
export function parameterValue(values: Record<string, JsonValue>, dotted: string): JsonValue | undefined {
  let v: JsonValue | undefined = values;
  for (const part of dotted.split('.')) {
    if (v === null || v === undefined || typeof v !== 'object' || Array.isArray(v) || !Object.prototype.hasOwnProperty.call(v, part)) return undefined;
    v = (v as Record<string, JsonValue>)[part];
  }
  return v;
}

/** Every dotted key of the tree (intermediate mappings included): split, split.test_ratio, seed... */
export function parameterKeys(values: Record<string, JsonValue>): string[] {
  const out: string[] = [];
  const walk = (prefix: string, v: JsonValue) => {
    if (prefix) out.push(prefix);
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) for (const [k, c] of Object.entries(v)) walk(prefix ? `${prefix}.${k}` : k, c);
  };
  walk('', values);
  return out;
}

/** Flattens to dotted leaf keys, as run records store them. */
export function flattenParameters(values: Record<string, JsonValue>, prefix = ''): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const [k, v] of Object.entries(values)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0) Object.assign(out, flattenParameters(v, key));
    else out[key] = v;
  }
  return out;
}
