// Schema validation of one declaration file, each ajv error turned into a located diagnostic in the user's words.
import type { ErrorObject } from 'ajv';
import { diag } from '../diagnostics/diagnostic.ts';
import { didYouMean } from '../diagnostics/didyoumean.ts';
import type { Diagnostic } from '../diagnostics/types.ts';
import { validator, type DeclarationKind } from './schemas.ts';
import { locate, locateKey, nodeAtPointer, pointerParts, spanLocation, type YamlFile } from './yaml.ts';
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

/** The JSON type of a value, in JSON Schema's words. */
function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** The types a branch of an anyOf accepts (following a local $ref), or null when it does not restrict the type. */
function branchTypes(branch: SchemaNode, root: SchemaNode): string[] | null {
  let s: unknown = branch;
  for (let hops = 0; hops < 10 && s && typeof s === 'object' && typeof (s as SchemaNode).$ref === 'string'; hops++) {
    const ref = (s as SchemaNode).$ref as string;
    if (!ref.startsWith('#/')) return null;
    s = pointerParts(ref.slice(1)).reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as SchemaNode)[k] : undefined), root);
  }
  const t = (s as SchemaNode | undefined)?.type;
  return t === undefined ? null : Array.isArray(t) ? t.map(String) : [String(t)];
}

const accepts = (types: string[] | null, actual: string) => types === null || types.includes(actual) || (actual === 'integer' && types.includes('number'));

/** Whether `path` is `base` or below it. */
const under = (path: string, base: string) => path === base || path.startsWith(`${base}/`);

/**
 * ajv reports every failing branch of an anyOf, the branch errors just before the anyOf error itself. A branch
 * reached through $ref reports its errors under the definition's path, so branches are told apart by type: keep the
 * errors of the branches whose type fits the value (the user meant that form) without the other branches' "wrong
 * type" errors, or, when no branch fits, replace them all with one "must be a string, a list or a mapping" error.
 */
function simplifyAnyOf(errors: ErrorObject[], root: SchemaNode): ErrorObject[] {
  let list = errors;
  for (;;) {
    // The first anyOf error is the innermost: ajv reports a nested anyOf before the one around it.
    const at = list.findIndex((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
    if (at < 0) return list;
    const anyOf = list[at];
    let first = at;
    while (first > 0 && under(list[first - 1].instancePath, anyOf.instancePath)) first--;
    const branchErrors = list.slice(first, at);
    const branches = (((anyOf.parentSchema ?? {}) as SchemaNode)[anyOf.keyword] as SchemaNode[] | undefined) ?? [];
    const types = branches.map((b) => branchTypes(b, root));
    const actual = jsonType(anyOf.data);
    const wrongType = (e: ErrorObject) => e.keyword === 'type' && e.instancePath === anyOf.instancePath;
    let replacement: ErrorObject[];
    if (types.some((t) => accepts(t, actual))) {
      replacement = branchErrors.filter((e) => !wrongType(e));
      // A fitting branch that failed without saying why (it should not happen) still leaves the anyOf error.
      if (replacement.length === 0) replacement = [anyOf];
    } else {
      const expected = types.flatMap((t) => t ?? []);
      replacement = [{ ...anyOf, keyword: 'type', params: { type: [...new Set(expected)] } }];
    }
    list = [...list.slice(0, first), ...replacement, ...list.slice(at + 1)];
    if (replacement.length === 1 && replacement[0] === anyOf) {
      // Leave it for toDiagnostic's default case; continue with the anyOf errors after it.
      const rest = simplifyAnyOf(list.slice(first + 1), root);
      return [...list.slice(0, first + 1), ...rest];
    }
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
      // A mapping or list where a type name belongs is a wrong type (the schema's own 'type' error says so), not an
      // unknown type named '[object Object]'.
      if (schema['x-kiln-code'] === 'KILN1009' && typeof e.data !== 'string') return undefined;
      if (schema['x-kiln-code'] === 'KILN1009') {
        const dataset = pointer.split('/')[1] ?? '';
        return diag('KILN1009', { type: String(e.data), dataset, suggestion: didYouMean(String(e.data), allowed), allowed: allowed.join(', ') }, locate(f, pointer));
      }
      return diag('KILN1008', { what, problem: `is ${describeValue(e.data)}, which is not one of: ${allowed.join(', ')}.${didYouMean(String(e.data), allowed)}`, fix: `Use one of: ${allowed.join(', ')}.` }, locate(f, pointer));
    }
    case 'pattern': {
      if (schema['x-kiln-code'] === 'KILN1010') return diag('KILN1010', { ref: String(e.data) }, locate(f, pointer));
      // Values only a cluster reads (kiln emit argo): the code says which syntax, so the hint can show it.
      if (schema['x-kiln-code'] === 'KILN1030' || schema['x-kiln-code'] === 'KILN1031') return diag(schema['x-kiln-code'], { value: JSON.stringify(String(e.data)), what }, locate(f, pointer));
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
  // An empty catalog or parameters file (only comments, as a new project starts) declares nothing; resolution skips it.
  if ((kind === 'catalog' || kind === 'parameters') && (f.value === null || f.value === undefined)) return [];
  const validate = validator(kind);
  if (validate(f.value)) return [];
  const errors = simplifyAnyOf(validate.errors ?? [], validate.schema as SchemaNode);
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
