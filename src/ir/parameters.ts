// parameters*.yaml files → one parameter tree, with the location of every dotted key.
import { diag } from '../diagnostics/diagnostic.ts';
import type { Diagnostic, SourceLocation } from '../diagnostics/types.ts';
import type { LoadedFile } from '../config/load.ts';
import { locateKey } from '../config/yaml.ts';
import type { JsonValue, ParameterIR } from './types.ts';

export function resolveParameters(files: LoadedFile[], diagnostics: Diagnostic[]): ParameterIR {
  const values: Record<string, JsonValue> = Object.create(null) as Record<string, JsonValue>;
  const locations: Record<string, SourceLocation> = Object.create(null) as Record<string, SourceLocation>;
  for (const f of files) {
    if (!f.valid || f.value === null || f.value === undefined) continue;
    for (const [key, value] of Object.entries(f.value as Record<string, JsonValue>)) {
      const at = locateKey(f, `/${key}`);
      if (key in values) {
        const other = locations[key];
        diagnostics.push(diag('KILN2026', { key, other: `${other?.file}:${other?.line}` }, at));
        continue;
      }
      values[key] = value;
      const walk = (prefix: string, pointer: string, v: JsonValue) => {
        locations[prefix] = locateKey(f, pointer);
        if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
          for (const [k, child] of Object.entries(v)) walk(`${prefix}.${k}`, `${pointer}/${k}`, child);
        }
      };
      walk(key, `/${key}`, value);
    }
  }
  return { values, locations };
}

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
