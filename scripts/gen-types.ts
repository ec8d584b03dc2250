// Generates src/types/*.ts, the TypeScript types of the declaration files (kiln.yaml, catalog, parameters and
// pipeline files), from their JSON Schemas in schema/ with json-schema-to-typescript. The output is committed;
// test/config/types.test.ts fails when it is stale. Run: npm run gen:types (or npx tsx scripts/gen-types.ts --check).
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from 'json-schema-to-typescript';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Declaration schema → generated module (the artifact manifest is not a declaration file and is left out). */
export const DECLARATION_SCHEMAS: ReadonlyArray<{ schema: string; module: string }> = [
  { schema: 'kiln.schema.json', module: 'src/types/kiln.ts' },
  { schema: 'catalog.schema.json', module: 'src/types/catalog.ts' },
  { schema: 'parameters.schema.json', module: 'src/types/parameters.ts' },
  { schema: 'pipeline.schema.json', module: 'src/types/pipeline.ts' },
];

type Schema = Record<string, unknown>;

/**
 * Two rewrites for json-schema-to-typescript. It does not read if/then/else: `if: {required: [pipeline]}, then: A,
 * else: B` (how a pipeline file tells a reuse from a node) becomes `anyOf: [A, B]`, the type the two branches allow
 * together. And a `$ref` to an object type that carries its own description would become a numbered copy of that
 * type (Remap1, Remap2...), so that description is dropped; the referenced type keeps its own.
 */
function forTypes(s: unknown, root: Schema): unknown {
  if (Array.isArray(s)) return s.map((x) => forTypes(x, root));
  if (s === null || typeof s !== 'object') return s;
  const out: Schema = {};
  const src = s as Schema;
  const target = typeof src.$ref === 'string' ? resolveRef(src.$ref, root) : undefined;
  for (const [k, v] of Object.entries(src)) {
    if (k === 'if' || k === 'then' || k === 'else') continue;
    if (k === 'description' && target?.type === 'object') continue;
    out[k] = forTypes(v, root);
  }
  if (src.then !== undefined && src.else !== undefined) out.anyOf = [forTypes(src.then, root), forTypes(src.else, root)];
  return out;
}

function resolveRef(ref: string, root: Schema): Schema | undefined {
  if (!ref.startsWith('#/')) return undefined;
  return ref
    .slice(2)
    .split('/')
    .reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Schema)[k] : undefined), root) as Schema | undefined;
}

function header(schema: string): string {
  return `// generated from schema/${schema} by scripts/gen-types.ts; do not edit; run \`npm run gen:types\`\n`;
}

/** Every generated module, by repository-relative path, from the schemas under `from` (the repository by default). */
export async function generateTypes(from = root): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const { schema, module } of DECLARATION_SCHEMAS) {
    const json = JSON.parse(await fs.readFile(path.join(from, 'schema', schema), 'utf8')) as Schema;
    const name = String(json.title);
    const body = await compile(forTypes(json, json) as Parameters<typeof compile>[0], name, {
      bannerComment: '',
      additionalProperties: false,
      declareExternallyReferenced: true,
      unreachableDefinitions: false,
      strictIndexSignatures: false,
      format: true,
      style: { singleQuote: true, semi: true, printWidth: 120, trailingComma: 'all' },
      $refOptions: { resolve: { external: false, file: false, http: false } } as never,
    });
    files.set(module, `${header(schema)}\n${body.trim()}\n`);
  }
  return files;
}

/** Generated modules that differ from what is on disk. */
export async function staleTypes(from = root): Promise<string[]> {
  const stale: string[] = [];
  for (const [rel, text] of await generateTypes(from)) {
    const current = await fs.readFile(path.join(root, rel), 'utf8').catch(() => undefined);
    if (current !== text) stale.push(rel);
  }
  return stale;
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--check')) {
    const stale = await staleTypes();
    if (stale.length) {
      process.stderr.write(`stale: ${stale.join(', ')}; run npm run gen:types\n`);
      return 1;
    }
    process.stderr.write('src/types is up to date\n');
    return 0;
  }
  for (const [rel, text] of await generateTypes()) {
    await fs.mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await fs.writeFile(path.join(root, rel), text);
    process.stderr.write(`wrote ${rel}\n`);
  }
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
