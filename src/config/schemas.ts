// The JSON Schemas in schema/, compiled once with ajv. The build (scripts/build.ts) compiles the declaration schemas
// ahead of time into lib/config/validators/ (ajv standalone code): compiling them was most of `kiln validate`'s time.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Ajv, Options, ValidateFunction } from 'ajv';

export type DeclarationKind = 'project' | 'catalog' | 'parameters' | 'pipeline';

const files: Record<DeclarationKind, string> = {
  project: 'kiln.schema.json',
  catalog: 'catalog.schema.json',
  parameters: 'parameters.schema.json',
  pipeline: 'pipeline.schema.json',
};

const schemaDir = new URL('../../schema/', import.meta.url);

export function readSchema(kind: DeclarationKind | 'manifest'): Record<string, unknown> {
  const name = kind === 'manifest' ? 'manifest.schema.json' : files[kind];
  return JSON.parse(readFileSync(new URL(name, schemaDir), 'utf8')) as Record<string, unknown>;
}

export const DECLARATION_KINDS = Object.keys(files) as DeclarationKind[];

/** How declaration schemas are compiled, at run time or ahead of time (the build adds `code`). */
export const DECLARATION_AJV_OPTIONS: Options = { allErrors: true, strict: true, strictRequired: false, verbose: true, allowUnionTypes: true };

/** An ajv for declaration schemas: kiln's own annotations are a human name for the value and the diagnostic code a failure maps to. */
export function newDeclarationAjv(AjvClass: typeof Ajv, options: Options = {}): Ajv {
  const ajv = new AjvClass({ ...DECLARATION_AJV_OPTIONS, ...options });
  ajv.addVocabulary(['x-kiln-what', 'x-kiln-rule', 'x-kiln-code']);
  return ajv;
}

/** Where the build writes a kind's precompiled validator, relative to this module. */
export const precompiledValidator = (kind: DeclarationKind) => `./validators/${kind}.cjs`;

let ajv: Ajv | undefined;
const compiled = new Map<DeclarationKind, ValidateFunction>();
const require = createRequire(import.meta.url);

function precompiled(kind: DeclarationKind): ValidateFunction | undefined {
  // Only the build has them (running from src/, schemas are compiled here). A build is stamped with the schemas, so
  // they are never older than schema/.
  try {
    return require(precompiledValidator(kind)) as ValidateFunction;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') return undefined;
    throw e;
  }
}

export function validator(kind: DeclarationKind): ValidateFunction {
  let v = compiled.get(kind);
  if (!v) {
    v = precompiled(kind);
    if (!v) {
      ajv ??= newDeclarationAjv((require('ajv') as { Ajv: typeof Ajv }).Ajv);
      v = ajv.compile(readSchema(kind));
    }
    compiled.set(kind, v);
  }
  return v;
}
