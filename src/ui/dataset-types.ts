// The TypeScript type of every dataset as the compiler inferred it: read back from the compiled project's
// generated datasets module (the `Datasets` interface kiln compile writes) with TypeScript's checker, so the side
// panel shows `Stats` or `Row[]` where the YAML only names a function.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type * as TS from 'typescript';
import { compilerOptions } from '../codegen/typecheck.ts';
import type { ProjectSettings } from '../ir/types.ts';

const ts: typeof TS = createRequire(import.meta.url)('typescript');

export interface DatasetTypes {
  /** Dataset (or `params:key`) → its type as TypeScript prints it; empty when the project is not compiled. */
  types: Record<string, string>;
  /** Why there are none, with the command that makes them. */
  missing: string | null;
}

const cache = new Map<string, { mtimeMs: number; types: DatasetTypes }>();

export function datasetTypes(settings: Pick<ProjectSettings, 'root' | 'generatedDir'>): DatasetTypes {
  const file = path.resolve(settings.root, settings.generatedDir, 'datasets.ts');
  let mtimeMs: number;
  try {
    mtimeMs = fs.statSync(file).mtimeMs;
  } catch {
    return { types: {}, missing: `${path.relative(settings.root, file)} does not exist yet: run kiln compile` };
  }
  const hit = cache.get(file);
  if (hit && hit.mtimeMs === mtimeMs) return hit.types;
  const program = ts.createProgram({ rootNames: [file], options: compilerOptions(settings.root) });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  const types: Record<string, string> = {};
  const moduleSymbol = source && checker.getSymbolAtLocation(source);
  const datasets = moduleSymbol && checker.getExportsOfModule(moduleSymbol).find((s) => s.name === 'Datasets');
  if (datasets && source) {
    const declared = checker.getDeclaredTypeOfSymbol(datasets);
    for (const prop of checker.getPropertiesOfType(declared)) {
      const t = checker.getTypeOfSymbolAtLocation(prop, source);
      types[prop.name] = checker.typeToString(t, undefined, ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.UseSingleQuotesForStringLiteralType);
    }
  }
  const result: DatasetTypes = { types, missing: datasets ? null : `${path.relative(settings.root, file)} has no Datasets type: run kiln compile` };
  cache.set(file, { mtimeMs, types: result });
  return result;
}
