// Schema validation of one declaration file, each ajv error turned into a located diagnostic in the user's words.
import type { ErrorObject } from 'ajv';
import { diag } from '../diagnostics/diagnostic.ts';
import { didYouMean } from '../diagnostics/didyoumean.ts';
import type { Diagnostic } from '../diagnostics/types.ts';
import { validator, type DeclarationKind } from './schemas.ts';
import { locate, locateKey, nodeAtPointer, spanLocation, type YamlFile } from './yaml.ts';
import { describePointer, describeTypes, describeValue } from './describe.ts';

type SchemaNode = Record<string, unknown>;

function childPointer(pointer: string, key: string): string {
  return `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

/** Where a "missing key" points: the key of the mapping when it has one, else the mapping's first line. */
function locateMapping(f: YamlFile, pointer: string) {
  const { node, key } = nodeAtPointer(f.doc, pointer);
  if (key?.range) return { ...spanLocation(f.file, f.lineCounter, key.range[0], key.range[1]), pointer };
  if (node?.range) {
    const start = node.range[0];
    const lineEnd = f.text.indexOf('\n', start);
    const end = Math.min(node.range[1], lineEnd === -1 ? f.text.length : lineEnd);
    return { ...spanLocation(f.file, f.lineCounter, start, Math.max(end, start + 1)), pointer };
  }
  return locate(f, pointer);
}

/** The branch index of an anyOf/oneOf error below `prefix`, or -1. */
function branchOf(e: ErrorObject, prefix: string): number {
  if (!e.schemaPath.startsWith(prefix)) return -1;
  const m = /^\/(\d+)/.exec(e.schemaPath.slice(prefix.length));
  return m ? Number(m[1]) : -1;
}

/**
 * ajv reports every failing branch of an anyOf. Keep the branches whose type fits the value (the user meant that
 * form), or, when none fits, replace them all with one "must be a string, a list or a mapping" error.
 */
function simplifyAnyOf(errors: ErrorObject[]): ErrorObject[] {
  let list = errors;
  for (;;) {
    const anyOf = list.find((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
    if (!anyOf) return list;
    const prefix = `${anyOf.schemaPath}`;
    const under = list.filter((e) => e !== anyOf && e.instancePath.startsWith(anyOf.instancePath) && branchOf(e, prefix) >= 0);
    const byBranch = new Map<number, ErrorObject[]>();
    for (const e of under) {
      const b = branchOf(e, prefix);
      byBranch.set(b, [...(byBranch.get(b) ?? []), e]);
    }
    const typeMismatch = (errs: ErrorObject[]) => errs.length === 1 && errs[0].keyword === 'type' && errs[0].instancePath === anyOf.instancePath;
    const fitting = [...byBranch.entries()].filter(([, errs]) => !typeMismatch(errs));
    let replacement: ErrorObject[];
    if (fitting.length === 0) {
      const types = [...byBranch.values()].flatMap((errs) => {
        const t = errs[0].params.type as string | string[];
        return Array.isArray(t) ? t : [t];
      });
      replacement = [{ ...anyOf, keyword: 'type', params: { type: types } }];
    } else {
      replacement = fitting[0][1];
    }
    const removed = new Set([anyOf, ...under]);
    list = [...list.filter((e) => !removed.has(e)), ...replacement.map((e) => (e === anyOf ? e : { ...e, schemaPath: e.schemaPath.replace(prefix, '#resolved') }))];
  }
}

function toDiagnostic(kind: DeclarationKind, f: YamlFile, e: ErrorObject): Diagnostic | undefined {
  const schema = (e.parentSchema ?? {}) as SchemaNode;
  const pointer = e.instancePath;
  const what = describePointer(kind, f.value, pointer);
  switch (e.keyword) {
    case 'if':
      return undefined;
    case 'additionalProperties': {
      const key = String(e.params.additionalProperty);
      const allowed = Object.keys((schema.properties as SchemaNode | undefined) ?? {});
      return diag('KILN1007', { key, what, suggestion: didYouMean(key, allowed), allowed: allowed.join(', ') }, locateKey(f, childPointer(pointer, key)));
    }
    case 'required':
      return diag('KILN1006', { what, key: String(e.params.missingProperty) }, locateMapping(f, pointer));
    case 'type': {
      const t = e.params.type as string | string[];
      const expected = describeTypes(Array.isArray(t) ? t : String(t).split(','));
      return diag('KILN1005', { what, expected, actual: describeValue(e.data) }, locate(f, pointer));
    }
    case 'enum': {
      const allowed = (e.params.allowedValues as unknown[]).map(String);
      if (schema['x-kiln-code'] === 'KILN1009') {
        const dataset = pointer.split('/')[1] ?? '';
        return diag('KILN1009', { type: String(e.data), dataset, suggestion: didYouMean(String(e.data), allowed), allowed: allowed.join(', ') }, locate(f, pointer));
      }
      return diag('KILN1008', { what, problem: `is ${describeValue(e.data)}, which is not one of: ${allowed.join(', ')}.${didYouMean(String(e.data), allowed)}`, fix: `Use one of: ${allowed.join(', ')}.` }, locate(f, pointer));
    }
    case 'pattern': {
      if (schema['x-kiln-code'] === 'KILN1010') return diag('KILN1010', { ref: String(e.data) }, locate(f, pointer));
      const label = (schema['x-kiln-what'] as string | undefined) ?? 'value';
      const rule = (schema['x-kiln-rule'] as string | undefined) ?? `match ${String(e.params.pattern)}`;
      // A bad key (propertyNames) points at the key; a bad value at the value.
      const isKey = e.propertyName !== undefined;
      const at = isKey ? locateKey(f, childPointer(pointer, e.propertyName!)) : locate(f, pointer);
      const shown = String(isKey ? e.propertyName : e.data);
      return diag('KILN1008', { what: `${JSON.stringify(shown.length > 60 ? shown.slice(0, 60) + '…' : shown)} in ${what}`, problem: `is not a valid ${label}`, fix: `A ${label} is ${rule}.` }, at);
    }
    case 'propertyNames':
      return undefined; // the inner error (pattern, maxLength) says what is wrong with the key
    default: {
      const isKey = e.propertyName !== undefined;
      const at = isKey ? locateKey(f, childPointer(pointer, e.propertyName!)) : locate(f, pointer);
      return diag('KILN1008', { what: isKey ? `key '${e.propertyName}' in ${what}` : what, problem: e.message ?? 'is invalid', fix: (schema.description as string | undefined) ?? 'See the schema for this file.' }, at);
    }
  }
}

export function validateDeclaration(kind: DeclarationKind, f: YamlFile): Diagnostic[] {
  const validate = validator(kind);
  if (validate(f.value)) return [];
  const errors = simplifyAnyOf(validate.errors ?? []);
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    const d = toDiagnostic(kind, f, e);
    if (!d) continue;
    const key = `${d.code}|${d.location?.line}|${d.location?.column}|${d.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(d);
  }
  return out;
}
