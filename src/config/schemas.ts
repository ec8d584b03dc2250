// The JSON Schemas in schema/, compiled once with ajv.
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';

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

let ajv: Ajv | undefined;
const compiled = new Map<DeclarationKind, ValidateFunction>();

export function declarationAjv(): Ajv {
  if (!ajv) {
    ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, verbose: true, allowUnionTypes: true });
    // kiln's own annotations: a human name for the value and the diagnostic code a failure maps to.
    ajv.addVocabulary(['x-kiln-what', 'x-kiln-rule', 'x-kiln-code']);
  }
  return ajv;
}

export function validator(kind: DeclarationKind): ValidateFunction {
  let v = compiled.get(kind);
  if (!v) {
    v = declarationAjv().compile(readSchema(kind));
    compiled.set(kind, v);
  }
  return v;
}
