// Writes docs/reference/yaml.md from the JSON Schemas in schema/: one table per file, a row per key (nested keys as
// dotted paths), so the reference says exactly what the validator accepts.
import fs from 'node:fs';
import path from 'node:path';
import { cell, codeCell, prose } from './markdown.ts';
import { repoRoot } from './repo.ts';

type Schema = Record<string, any>;

/** The files a user writes, then the one kiln writes (the artifact manifest), in the order a reader meets them. */
const FILES = [
  { schema: 'kiln.schema.json', file: 'kiln.yaml' },
  { schema: 'catalog.schema.json', file: 'pipelines/catalog.yaml' },
  { schema: 'parameters.schema.json', file: 'pipelines/parameters.yaml' },
  { schema: 'pipeline.schema.json', file: 'pipelines/**/pipeline.yaml' },
  { schema: 'manifest.schema.json', file: 'manifest.json (written by kiln into every artifact)' },
];

interface Row {
  key: string;
  type: string;
  required: boolean;
  fallback: string;
  allowed: string;
  description: string;
}

/** A value as it is written in YAML: auto, not "auto". */
const code = (v: unknown) => `\`${typeof v === 'string' ? v : JSON.stringify(v)}\``;

function resolve(s: Schema, root: Schema): Schema {
  // A $ref's siblings (a description given at the place of use) win over the referenced definition's.
  if (typeof s.$ref !== 'string') return s;
  const target = s.$ref.replace(/^#\//, '').split('/').reduce((o: Schema, k: string) => o[k], root);
  const { $ref: _, ...rest } = s;
  return { ...resolve(target, root), ...rest };
}

/** The schema's alternatives: anyOf/oneOf, or the two branches of if/then/else (a reuse or a node). */
function alternatives(s: Schema): Schema[] | undefined {
  if (s.anyOf || s.oneOf) return s.anyOf ?? s.oneOf;
  if (s.then && s.else) return [s.then, s.else];
  return undefined;
}

function typeOf(raw: Schema, root: Schema, refs: ReadonlySet<string> = new Set()): string {
  // A recursive definition (a parameter value holds parameter values) is named, not expanded again.
  if (typeof raw.$ref === 'string' && refs.has(raw.$ref)) return resolve(raw, root).title ?? raw.$ref.split('/').pop();
  const inner = typeof raw.$ref === 'string' ? new Set(refs).add(raw.$ref) : refs;
  const s = resolve(raw, root);
  const alts = alternatives(s);
  if (alts) return alts.map((a) => resolve(a, root).title ?? typeOf(a, root, inner)).join(' or ');
  if (s.const !== undefined) return code(s.const);
  const t = Array.isArray(s.type) ? s.type.join(' or ') : (s.type ?? (s.enum ? [...new Set(s.enum.map((v: unknown) => typeof v))].join(' or ') : 'any'));
  if (t === 'array' && s.items) return `list of ${typeOf(s.items, root, inner)}`;
  if (t === 'object' && !s.properties && typeof s.additionalProperties === 'object') return `map of ${typeOf(s.additionalProperties, root, inner)}`;
  return t;
}

function constraints(s: Schema): string {
  const parts: string[] = [];
  if (s.enum) parts.push(`one of ${s.enum.map(code).join(', ')}`);
  if (s.items?.enum) parts.push(`each one of ${s.items.enum.map(code).join(', ')}`);
  if (s.uniqueItems) parts.push('no duplicates');
  if (s['x-kiln-rule']) parts.push(s['x-kiln-rule']);
  else if (s.pattern) parts.push(`matches \`${s.pattern}\``);
  if (s.minimum !== undefined) parts.push(`≥ ${s.minimum}`);
  if (s.exclusiveMinimum !== undefined) parts.push(`> ${s.exclusiveMinimum}`);
  if (s.maximum !== undefined) parts.push(`≤ ${s.maximum}`);
  if (s.minLength !== undefined && s.minLength > 1) parts.push(`at least ${s.minLength} characters`);
  if (s.maxLength !== undefined) parts.push(`at most ${s.maxLength} characters`);
  if (s.minItems !== undefined) parts.push(`at least ${s.minItems} items`);
  return parts.join('; ');
}

/** Rows for the keys of an object schema, then for the keys of what each key holds (objects, lists of objects, maps). */
function rows(s: Schema, root: Schema, prefix: string, seen: Set<Schema>, out: Row[]): Row[] {
  if (seen.has(s)) return out;
  const inner = new Set(seen).add(s);
  const required: string[] = s.required ?? [];
  for (const [key, raw] of Object.entries<Schema>(s.properties ?? {})) {
    const p = resolve(raw, root);
    const at = prefix + key;
    out.push({
      key: at,
      type: typeOf(raw, root),
      required: required.includes(key),
      fallback: p.default === undefined ? '' : code(p.default),
      allowed: constraints(p),
      description: p.description ?? '',
    });
    children(p, root, at, inner, out);
  }
  if (typeof s.additionalProperties === 'object') {
    const p = resolve(s.additionalProperties, root);
    const names = s.propertyNames ? resolve(s.propertyNames, root) : {};
    const at = `${prefix}<${names['x-kiln-what'] ?? 'name'}>`;
    out.push({ key: at, type: typeOf(s.additionalProperties, root), required: false, fallback: '', allowed: constraints(names), description: p.description ?? '' });
    children(p, root, at, inner, out);
  }
  return out;
}

function children(p: Schema, root: Schema, at: string, seen: Set<Schema>, out: Row[]): void {
  if (p.properties || typeof p.additionalProperties === 'object') rows(p, root, `${at}.`, seen, out);
  const items = p.items ? resolve(p.items, root) : undefined;
  if (items) {
    const alts = alternatives(items)?.map((a) => resolve(a, root)) ?? [items];
    for (const a of alts) if (a.properties) rows(a, root, `${at}[${alts.length > 1 ? (a.title ?? '') : ''}].`, seen, out);
  }
  for (const a of alternatives(p) ?? []) {
    const r = resolve(a, root);
    if (r.properties) rows(r, root, `${at}.`, seen, out);
  }
}

function section(schemaFile: string, file: string): string {
  const root = JSON.parse(fs.readFileSync(path.join(repoRoot, 'schema', schemaFile), 'utf8')) as Schema;
  const table = rows(root, root, '', new Set(), []).map(
    (r) => `| \`${codeCell(r.key)}\` | ${cell(r.type)} | ${r.required ? 'yes' : ''} | ${cell(r.fallback)} | ${cell(r.allowed)} | ${cell(r.description)} |`,
  );
  return [
    `## ${file}`,
    '',
    `Schema: [schema/${schemaFile}](../../schema/${schemaFile}) (${root.title}). ${prose(root.description)}`,
    '',
    '| key | type | required | default | allowed values | description |',
    '|---|---|---|---|---|---|',
    ...table,
    '',
  ].join('\n');
}

export function yamlReference(): string {
  return [
    '<!-- Generated by `npm run docs` from schema/*.json (scripts/docs/yaml-reference.ts). DO NOT EDIT. -->',
    '# YAML reference',
    '',
    'Every key kiln accepts in its declaration files, read from the JSON Schemas that `kiln validate` checks against.',
    'Nested keys are written as paths: `git.main` is `main:` under `git:`; `nodes[].inputs` is `inputs:` in an item of',
    'the `nodes:` list; `<dataset name>` stands for a key you choose. A key not listed is an error (KILN1007).',
    '',
    ...FILES.map((f) => section(f.schema, f.file)),
  ].join('\n');
}
