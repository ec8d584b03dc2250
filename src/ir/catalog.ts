// Catalog files → DatasetIR entries: merged across files, paths and record schemas checked.
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Ajv } from 'ajv';
import { diag } from '../diagnostics/diagnostic.ts';
import { didYouMean } from '../diagnostics/didyoumean.ts';
import type { Diagnostic } from '../diagnostics/types.ts';
import type { LoadedFile } from '../config/load.ts';
import { escapesRoot, joinRel } from '../config/load.ts';
import { locate, locateKey } from '../config/yaml.ts';
import type { DatasetIR, DatasetType, JsonValue } from './types.ts';
import { textVerdicts } from '../text-verdicts.ts';

interface RawEntry {
  type: DatasetType;
  path?: string;
  versioned?: boolean;
  schema?: string;
  description?: string;
  options?: Record<string, JsonValue>;
}

const FILE_TYPES = new Set<DatasetType>(['json', 'jsonl', 'csv', 'text', 'binary', 'partitioned', 'tfjs_model']);
const OPTIONS_BY_TYPE: Record<DatasetType, string[]> = {
  memory: [],
  json: ['indent'],
  jsonl: [],
  csv: ['delimiter', 'header'],
  text: [],
  binary: [],
  partitioned: ['dataset', 'suffix'],
  tfjs_model: [],
  metrics: ['prefix'],
};
const SCHEMA_TYPES = new Set<DatasetType>(['memory', 'json', 'jsonl', 'csv', 'partitioned']);

function allowedOutside(abs: string, allowed: string[]): boolean {
  return allowed.some((a) => abs === a || abs.startsWith(a.endsWith(path.sep) ? a : a + path.sep));
}

// ajv-formats is CommonJS: depending on the loader, its default import is the plugin or the module holding it.
type FormatsPlugin = (ajv: Ajv) => unknown;

/** What ajv says while compiling a record schema (an unknown format, ignored): reported as diagnostics, never printed raw. */
let ajvWarnings: string[] = [];
let schemaAjv: Ajv | undefined;

// Loaded on first use: a project whose schemas' verdicts are remembered (src/text-verdicts.ts) never loads ajv's compiler.
function recordSchemaAjv(): Ajv {
  if (!schemaAjv) {
    const require = createRequire(import.meta.url);
    const { Ajv: AjvClass } = require('ajv') as { Ajv: typeof Ajv };
    const formats = require('ajv-formats') as { default?: FormatsPlugin } & FormatsPlugin;
    schemaAjv = new AjvClass({ strict: false, allErrors: false, validateSchema: true, logger: { log: () => {}, warn: (...args: unknown[]) => ajvWarnings.push(args.map(String).join(' ')), error: () => {} } });
    // The formats records are checked against at run time (src/runtime/datasets/schema.ts): only others are unknown.
    (formats.default ?? formats)(schemaAjv);
  }
  return schemaAjv;
}

export function resolveCatalog(files: LoadedFile[], sources: ReadonlyMap<string, string>, root: string, allowedPaths: string[], diagnostics: Diagnostic[]): Record<string, DatasetIR> {
  const datasets: Record<string, DatasetIR> = Object.create(null) as Record<string, DatasetIR>;
  for (const f of files) {
    if (!f.valid || f.value === null || f.value === undefined) continue;
    for (const [name, raw] of Object.entries(f.value as Record<string, RawEntry>)) {
      const ptr = `/${name}`;
      const location = locateKey(f, ptr);
      const existing = datasets[name];
      if (existing) {
        diagnostics.push(diag('KILN2025', { dataset: name, other: `${existing.location?.file}:${existing.location?.line}` }, location));
        continue;
      }
      const entry: DatasetIR = { name, type: raw.type, declared: true, versioned: raw.versioned ?? false, options: raw.options ?? {}, location };
      const problem = (problemText: string, fix: string, at = ptr) => diagnostics.push(diag('KILN2027', { dataset: name, type: raw.type, problem: problemText, fix }, locate(f, at)));
      if (FILE_TYPES.has(raw.type) && raw.path === undefined) {
        diagnostics.push(diag('KILN1006', { what: `dataset '${name}' (type ${raw.type})`, key: 'path' }, location));
      }
      if (raw.type === 'memory' && raw.path !== undefined) problem('cannot have a path', 'Remove `path:`, or use a file type such as json or jsonl to persist it.', `${ptr}/path`);
      if (raw.versioned && !FILE_TYPES.has(raw.type)) problem('cannot be versioned', 'Only datasets stored in files can be versioned; remove `versioned:`.', `${ptr}/versioned`);
      if (raw.schema !== undefined && !SCHEMA_TYPES.has(raw.type)) problem('cannot have a record schema', `Record schemas apply to ${[...SCHEMA_TYPES].join(', ')}; remove \`schema:\`.`, `${ptr}/schema`);
      for (const key of Object.keys(entry.options)) {
        const allowed = OPTIONS_BY_TYPE[raw.type];
        if (!allowed.includes(key)) {
          diagnostics.push(diag('KILN1007', { key, what: `options of a ${raw.type} dataset`, suggestion: didYouMean(key, allowed), allowed: allowed.length ? allowed.join(', ') : '(none)' }, locateKey(f, `${ptr}/options/${key}`)));
        }
      }
      if (raw.type === 'partitioned' && entry.options.dataset === undefined) entry.options = { ...entry.options, dataset: 'json' };
      const control = (['path', 'schema'] as const).filter((k) => raw[k] !== undefined && /[\u0000-\u001f\u007f]/.test(raw[k]!));
      for (const k of control) diagnostics.push(diag('KILN1017', { path: JSON.stringify(raw[k]) }, locate(f, `${ptr}/${k}`)));
      if (control.length) continue;
      if (raw.path !== undefined) {
        const p = raw.path.replace(/\\/g, '/');
        const abs = path.resolve(root, p);
        if (escapesRoot(p) && !allowedOutside(abs, allowedPaths)) {
          diagnostics.push(diag('KILN1013', { path: raw.path }, locate(f, `${ptr}/path`)));
        } else {
          entry.path = escapesRoot(p) ? abs : path.posix.normalize(p);
        }
      }
      if (raw.description !== undefined) entry.description = raw.description;
      if (raw.schema !== undefined) {
        const rel = joinRel(f.file, raw.schema);
        const at = locate(f, `${ptr}/schema`);
        if (escapesRoot(rel)) {
          diagnostics.push(diag('KILN1013', { path: raw.schema }, at));
        } else {
          const loaded = loadRecordSchema(rel, sources);
          if (typeof loaded === 'string') diagnostics.push(diag('KILN1012', { path: raw.schema, dataset: name, reason: loaded }, at));
          else {
            entry.schema = rel;
            entry.schemaJson = loaded;
            for (const warning of recordSchemaWarnings(rel, sources)) diagnostics.push(diag('KILN1022', { path: raw.schema, dataset: name, warning }, at));
          }
        }
      }
      datasets[name] = entry;
    }
  }
  return datasets;
}

/** A record schema from the captured sources, or the reason it cannot be used. */
export function loadRecordSchema(rel: string, sources: ReadonlyMap<string, string>): Record<string, unknown> | string {
  const text = sources.get(rel);
  if (text === undefined) return `there is no file ${rel}`;
  // Compiling a schema is the slow part; its verdict depends on the text alone (a project compiled many times in one
  // process, by watch or by tests, has the same few schemas). The value is parsed afresh: callers keep it.
  const verdict = verdictOf(text);
  return verdict.error === null ? (JSON.parse(text) as Record<string, unknown>) : verdict.error;
}

/** What ajv warned about while compiling a usable record schema (an unknown format it will not check). */
export function recordSchemaWarnings(rel: string, sources: ReadonlyMap<string, string>): string[] {
  const text = sources.get(rel);
  return text === undefined ? [] : verdictOf(text).warnings;
}

interface SchemaVerdict {
  error: string | null;
  warnings: string[];
}

const schemaVerdicts = new Map<string, SchemaVerdict>();
const rememberedVerdicts = textVerdicts<SchemaVerdict>('record-schema', import.meta.url, ['ajv', 'ajv-formats'], (v) => {
  const x = v as Partial<SchemaVerdict> | null;
  return typeof x === 'object' && x !== null && (x.error === null || typeof x.error === 'string') && Array.isArray(x.warnings) && x.warnings.every((w) => typeof w === 'string');
});

function verdictOf(text: string): SchemaVerdict {
  let verdict = schemaVerdicts.get(text) ?? rememberedVerdicts.recall(text);
  if (!verdict) {
    ajvWarnings = [];
    const error = checkRecordSchema(text);
    verdict = { error, warnings: ajvWarnings.map((w) => w.replace(/\s+in schema at path "[^"]*"$/, '')) };
    rememberedVerdicts.remember(text, verdict);
    if (schemaVerdicts.size > 1000) schemaVerdicts.clear();
    schemaVerdicts.set(text, verdict);
  }
  return verdict;
}

/** Why the text cannot be used as a record schema, or null when it can. */
function checkRecordSchema(text: string): string | null {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return `it is not valid JSON (${(e as Error).message})`;
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return 'a JSON Schema is an object';
  const external = findExternalRef(json);
  if (external !== undefined) return `it refers outside itself ($ref ${JSON.stringify(external)}); kiln follows only references inside the schema (#/...)`;
  try {
    const copy = { ...(json as Record<string, unknown>) };
    delete copy.$id;
    recordSchemaAjv().compile(copy);
  } catch (e) {
    return `it is not a valid JSON Schema (${(e as Error).message})`;
  }
  return null;
}

function findExternalRef(v: unknown): string | undefined {
  if (Array.isArray(v)) {
    for (const x of v) {
      const r = findExternalRef(x);
      if (r !== undefined) return r;
    }
  } else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (k === '$ref' && typeof x === 'string' && !x.startsWith('#')) return x;
      const r = findExternalRef(x);
      if (r !== undefined) return r;
    }
  }
  return undefined;
}
