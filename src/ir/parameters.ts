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

export { parameterValue, parameterKeys, flattenParameters } from './parameter-tree.ts';
