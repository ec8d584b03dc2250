// Record validation on load: the catalog entry's JSON Schema compiled once, each failure told as field and expectation.
import { createRequire } from 'node:module';
import type { Ajv, AnySchemaObject, ErrorObject, Options, ValidateFunction } from 'ajv';
import type { Ajv2019 } from 'ajv/dist/2019.js';
import type { Ajv2020 } from 'ajv/dist/2020.js';
import type { DatasetIR } from '../../ir/types.ts';
import { diag, KilnError } from '../../diagnostics/index.ts';

type AjvInstance = Ajv | Ajv2019 | Ajv2020;
type FormatsPlugin = (ajv: AjvInstance) => unknown;

/**
 * ajv, required (it is CommonJS) when a schema is first compiled: loading it was a tenth of a `kiln run` whose nodes
 * were all skipped, and such a run checks no record.
 */
function ajvClasses(): { Ajv: typeof Ajv; Ajv2019: typeof Ajv2019; Ajv2020: typeof Ajv2020; addFormats: FormatsPlugin } {
  const require = createRequire(import.meta.url);
  const formats = require('ajv-formats') as { default?: FormatsPlugin } & FormatsPlugin;
  return {
    Ajv: (require('ajv') as { Ajv: typeof Ajv }).Ajv,
    Ajv2019: (require('ajv/dist/2019.js') as { Ajv2019: typeof Ajv2019 }).Ajv2019,
    Ajv2020: (require('ajv/dist/2020.js') as { Ajv2020: typeof Ajv2020 }).Ajv2020,
    // Depending on the loader, the default export is the plugin or the module holding it.
    addFormats: formats.default ?? formats,
  };
}

export interface RecordProblem {
  /** JSON pointer of the offending field ('' for the record itself). */
  field: string;
  /** What was expected, in ajv's words ("must be string"). */
  expected: string;
}

export type RecordCheck = (record: unknown) => RecordProblem | null;

type Draft = '07' | '2019' | '2020';
const instances = new Map<string, AjvInstance>();

function ajvFor(draft: Draft, coerceTypes: boolean): AjvInstance {
  const key = `${draft}:${coerceTypes}`;
  let ajv = instances.get(key);
  if (!ajv) {
    // addUsedSchema false: two datasets may carry schemas with the same $id without clashing in one instance.
    // logger false: an unknown format is reported once, by validate (KILN1022), not printed raw on every run.
    const opts: Options = { allErrors: false, strict: false, coerceTypes, addUsedSchema: false, allowUnionTypes: true, logger: false };
    const { Ajv, Ajv2019, Ajv2020, addFormats } = ajvClasses();
    ajv = draft === '2020' ? new Ajv2020(opts) : draft === '2019' ? new Ajv2019(opts) : new Ajv(opts);
    addFormats(ajv);
    instances.set(key, ajv);
  }
  return ajv;
}

function draftOf(schema: Record<string, unknown>): Draft {
  const s = typeof schema.$schema === 'string' ? schema.$schema : '';
  if (s.includes('2020-12')) return '2020';
  if (s.includes('2019-09')) return '2019';
  return '07';
}

const compiled = new WeakMap<object, ValidateFunction>();
const compiledCoercing = new WeakMap<object, ValidateFunction>();

function describeError(e: ErrorObject): RecordProblem {
  const p = e.params as Record<string, unknown>;
  if (e.keyword === 'required' && typeof p.missingProperty === 'string') {
    return { field: `${e.instancePath}/${p.missingProperty}`, expected: 'is required but missing' };
  }
  if (e.keyword === 'additionalProperties' && typeof p.additionalProperty === 'string') {
    return { field: `${e.instancePath}/${p.additionalProperty}`, expected: 'is not allowed by the schema (additionalProperties is false)' };
  }
  let expected = e.message ?? `fails '${e.keyword}'`;
  if (e.keyword === 'enum' && Array.isArray(p.allowedValues)) expected = `must be one of ${p.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  return { field: e.instancePath, expected };
}

/**
 * A check of one record against `schema`, compiled once per schema object (datasets that share a schema, such as
 * the partitions of a partitioned dataset, share the compiled check). `coerceTypes` makes ajv convert text to the
 * schema's types in place ("3" → 3), which is how CSV cells become numbers and booleans.
 */
export function recordCheck(entry: DatasetIR, schema: Record<string, unknown>, coerceTypes = false): RecordCheck {
  const cache = coerceTypes ? compiledCoercing : compiled;
  let validate = cache.get(schema);
  if (!validate) {
    try {
      validate = ajvFor(draftOf(schema), coerceTypes).compile(schema as AnySchemaObject);
    } catch (e) {
      throw new KilnError(diag('KILN1012', { path: entry.schema ?? '(inline schema)', dataset: entry.name, reason: (e as Error).message }, entry.location));
    }
    cache.set(schema, validate);
  }
  const v: ValidateFunction = validate;
  return (record) => (v(record) ? null : describeError(v.errors![0]));
}

/** Throws KILN3104 for `problem`: `where` names the file and place ("data/x.jsonl line 12"), `record` is 1-based. */
export function recordError(entry: DatasetIR, where: string, record: number | string, problem: RecordProblem): KilnError {
  const field = problem.field === '' ? 'the record' : `field '${problem.field}'`;
  return new KilnError(diag('KILN3104', { where, record, dataset: entry.name, field, expected: problem.expected, schema: entry.schema ?? 'the catalog entry' }, entry.location));
}
