// TypeScript types for generated code: record types from JSON Schemas (json-schema-to-typescript) and the
// parameters type from parameter values.
import { compile as jsonSchemaToTs } from 'json-schema-to-typescript';
import type { JsonValue } from '../ir/types.ts';
import { lit } from './literals.ts';

/** Keywords that let a schema inject TypeScript (tsType) or names; untrusted schemas lose them. */
const UNSAFE_KEYWORDS = new Set(['tsType', 'tsEnumNames', 'tsExtends', '$id', 'id']);

/** A copy of the schema that cannot inject code: no tsType, no comment terminators, no root title. */
export function sanitizeSchema(schema: unknown, root = true): unknown {
  if (Array.isArray(schema)) return schema.map((s) => sanitizeSchema(s, false));
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema as Record<string, unknown>)) {
    if (UNSAFE_KEYWORDS.has(k)) continue;
    if (root && k === 'title') continue;
    if ((k === 'description' || k === 'title' || k === '$comment') && typeof v === 'string') {
      out[k] = v.replace(/\*\//g, '*\u2215').replace(/[\u2028\u2029]/g, ' ');
      continue;
    }
    // Property names are data, not keywords: recurse into their schemas without treating the names specially.
    if ((k === 'properties' || k === 'patternProperties' || k === 'definitions' || k === '$defs') && v && typeof v === 'object' && !Array.isArray(v)) {
      out[k] = Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([name, s]) => [name, sanitizeSchema(s, false)]));
      continue;
    }
    out[k] = sanitizeSchema(v, false);
  }
  return out;
}

export async function schemaToTypeScript(schema: Record<string, unknown>, name: string): Promise<string> {
  const text = await jsonSchemaToTs(sanitizeSchema(schema) as Parameters<typeof jsonSchemaToTs>[0], name, {
    bannerComment: '',
    format: true,
    additionalProperties: false,
    strictIndexSignatures: true,
    declareExternallyReferenced: true,
    unreachableDefinitions: false,
    $refOptions: { resolve: { external: false, file: false, http: false } } as never,
    style: { singleQuote: false, semi: true, printWidth: 120 },
  });
  return text.trim() + '\n';
}

/** A TypeScript type for a parameter value: the shape of what is there, so a number stays a number. */
export function parameterType(v: JsonValue, indent = ''): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) {
    if (v.length === 0) return 'unknown[]';
    const items = [...new Set(v.map((x) => parameterType(x, indent)))].sort();
    return items.length === 1 && !items[0].includes('\n') && !items[0].includes('|') ? `${items[0]}[]` : `Array<${items.join(' | ')}>`;
  }
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    default: {
      const entries = Object.entries(v);
      if (entries.length === 0) return 'Record<string, never>';
      const inner = indent + '  ';
      return `{\n${entries.map(([k, x]) => `${inner}${lit(k)}: ${parameterType(x, inner)};`).join('\n')}\n${indent}}`;
    }
  }
}
