// Injection safety: hostile names and values in every place a declaration can hold them are either refused with a
// diagnostic or emitted as data. Generated code must parse, must not contain the payload as code, must type-check,
// and importing and running it must not execute anything from the corpus.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeProject } from '../../src/project.ts';
import { buildProject, writeGenerated } from '../../src/build.ts';
import { compile } from '../../src/codegen/compile.ts';
import { memoryHost, makeProject } from '../helpers/project.ts';

const MARK = '__kilnPwned';
const MARKER_FILE = path.join(os.tmpdir(), `kiln-pwned-${process.pid}`);
const writeMarker = `process.getBuiltinModule("fs").writeFileSync(${JSON.stringify(MARKER_FILE)}, "pwned")`;

afterAll(() => fs.rmSync(MARKER_FILE, { force: true }));

/** Each would run code if it reached generated code unescaped (as code, in a template literal, or out of a comment). */
const CORPUS: Array<[string, string]> = [
  ['double quotes', `x"; globalThis.${MARK} = 1; "`],
  ['single quotes', `x'; globalThis.${MARK} = 1; '`],
  ['a backtick template', `\`\${globalThis.${MARK} = 1}\``],
  ['a template substitution', `\${globalThis.${MARK} = 1}`],
  ['a comment terminator', `*/ globalThis.${MARK} = 1; /*`],
  ['a line break', `a\nglobalThis.${MARK} = 1; //`],
  ['a carriage return', `a\rglobalThis.${MARK} = 1; //`],
  ['a Unicode line separator', `a\u2028globalThis.${MARK} = 1; //`],
  ['a paragraph separator', `a\u2029globalThis.${MARK} = 1; //`],
  ['a trailing backslash', 'a\\'],
  ['an escaped quote', `\\"; ${writeMarker}; //`],
  ['a file-writing payload', `"); ${writeMarker}; ("`],
  ['script tags', `</script><script>globalThis.${MARK}=1</script>`],
  ['a NUL character', 'a\u0000b'],
  ['__proto__', '__proto__'],
  ['constructor', 'constructor'],
  ['prototype', 'prototype'],
  ['toString', 'toString'],
  ['hasOwnProperty', 'hasOwnProperty'],
  ['a Cyrillic look-alike (а)', 'dаta'],
  ['fullwidth letters', 'ｄａｔａ'],
  ['a zero-width joiner', 'da\u200dta'],
  ['a right-to-left override', 'data\u202egnp.exe'],
  ['a very long name', 'n'.repeat(5000)],
  ['an empty string', ''],
];

const NODES = 'export function f(...args: unknown[]): unknown[] {\n  return args;\n}\nexport function g(): number[] {\n  return [1];\n}\n';
const y = (v: unknown) => stringify(v, { lineWidth: 0 });

type Files = Record<string, string>;
const project = (pipeline: object, extra: Files = {}): Files => ({ 'kiln.yaml': y({ name: 'corpus' }), 'pipelines/p/nodes.ts': NODES, 'pipelines/p/pipeline.yaml': y({ pipeline: 'p', ...pipeline }), ...extra });
const node = (extra: object) => ({ name: 'n', run: './nodes.ts#f', inputs: ['a'], outputs: 'b', ...extra });
const source = { name: 'src', run: './nodes.ts#g', outputs: 'a' };
const schema = (s: object): Files => ({ 'pipelines/catalog.yaml': y({ a: { type: 'json', path: 'data/a.json', schema: './a.schema.json' } }), 'pipelines/a.schema.json': JSON.stringify(s) });

/** Where a hostile string can go, each as the files of a small project holding it there. */
const SITES: Record<string, (p: string) => Files> = {
  'catalog dataset name': (p) => project({ nodes: [source, node({ inputs: [p] })] }, { 'pipelines/catalog.yaml': y({ [p]: { type: 'json', path: 'data/x.json' } }) }),
  'in-memory dataset name': (p) => project({ nodes: [{ ...source, outputs: p }, node({ inputs: [p] })] }),
  'node name': (p) => project({ nodes: [source, node({ name: p })] }),
  'argument name': (p) => project({ nodes: [source, node({ inputs: { [p]: 'a' } })] }),
  'output field name': (p) => project({ nodes: [source, node({ outputs: { [p]: 'b' } })] }),
  tag: (p) => project({ nodes: [source, node({ tags: [p] })] }),
  'module path': (p) => project({ nodes: [source, node({ run: `./${p}.ts#f` })] }),
  'export name': (p) => project({ nodes: [source, node({ run: `./nodes.ts#${p}` })] }),
  'node namespace': (p) => project({ nodes: [source, node({ namespace: p })] }),
  'reuse namespace': (p) => ({ ...project({ nodes: [source, { pipeline: 'q', namespace: p, inputs: { a: 'a' } }] }), 'pipelines/q/pipeline.yaml': y({ pipeline: 'q', nodes: [{ name: 'n', run: '../p/nodes.ts#f', inputs: ['a'], outputs: 'b' }] }) }),
  'reuse remapping': (p) => ({ ...project({ nodes: [source, { pipeline: 'q', namespace: 'ns', inputs: { a: p } }] }), 'pipelines/q/pipeline.yaml': y({ pipeline: 'q', nodes: [{ name: 'n', run: '../p/nodes.ts#f', inputs: ['a'], outputs: 'b' }] }) }),
  'parameter key': (p) => project({ nodes: [source, node({ inputs: ['a', `params:${p}`] })] }, { 'pipelines/parameters.yaml': y({ [p]: 1 }) }),
  'nested parameter key': (p) => project({ nodes: [source, node({ inputs: ['a', 'params:k'] })] }, { 'pipelines/parameters.yaml': y({ k: { [p]: 1 } }) }),
  'parameter value': (p) => project({ nodes: [source, node({ inputs: ['a', 'params:k'] })] }, { 'pipelines/parameters.yaml': y({ k: p, list: [p, { deep: p }] }) }),
  'pipeline name': (p) => ({ ...project({ nodes: [source, node({})] }), 'pipelines/p/pipeline.yaml': y({ pipeline: p, nodes: [source, node({})] }) }),
  'model name': (p) => project({ nodes: [source, node({})], model: { name: p, input: 'a', output: 'b' } }, { 'pipelines/catalog.yaml': y({ a: { type: 'json', path: 'data/a.json' } }) }),
  'gate metric name': (p) => project({ nodes: [source, node({})], model: { name: 'm', input: 'a', output: 'b', gate: { metrics: { [p]: '>= 1' } } } }, { 'pipelines/catalog.yaml': y({ a: { type: 'json', path: 'data/a.json' } }) }),
  'project name': (p) => ({ ...project({ nodes: [source, node({})] }), 'kiln.yaml': y({ name: p }) }),
  'dataset description and path': (p) => project({ nodes: [source, node({})] }, { 'pipelines/catalog.yaml': y({ a: { type: 'json', path: p, description: p } }) }),
  'schema file name': (p) => project({ nodes: [source, node({})] }, { 'pipelines/catalog.yaml': y({ a: { type: 'json', path: 'data/a.json', schema: `./${p}.schema.json` } }), [`pipelines/${p}.schema.json`]: '{"type": "array"}' }),
  'schema title and descriptions': (p) => project({ nodes: [source, node({})] }, schema({ type: 'array', title: p, description: p, $comment: p, items: { type: 'object', title: p, description: p, properties: { x: { type: 'string', description: p, default: p, examples: [p] } } } })),
  'schema property name': (p) => project({ nodes: [source, node({})] }, schema({ type: 'object', required: [p], properties: { [p]: { type: 'string' } } })),
  'schema enum and const': (p) => project({ nodes: [source, node({})] }, schema({ type: 'object', properties: { e: { enum: [p, 'ok'] }, c: { const: p } } })),
  'schema tsType and friends': (p) => project({ nodes: [source, node({})] }, schema({ tsType: p, type: 'object', tsEnumNames: [p], properties: { t: { tsType: p } }, $id: p })),
  'schema definition name': (p) => project({ nodes: [source, node({})] }, schema({ type: 'object', definitions: { [p]: { type: 'object', title: p, properties: { z: { type: 'number' } } } }, properties: { r: { $ref: `#/definitions/${p.replace(/~/g, '~0').replace(/\//g, '~1')}` } } })),
};

/** Identifiers that generated code never uses; finding one outside strings and comments means a payload became code. */
const FORBIDDEN = new Set([MARK, 'globalThis', 'process', 'getBuiltinModule', 'writeFileSync']);

function codeProblems(file: string, text: string): string[] {
  const problems: string[] = [];
  const out = ts.transpileModule(text, { fileName: file, reportDiagnostics: true, compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false } });
  for (const d of out.diagnostics ?? []) problems.push(`${file}: syntax: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const visit = (n: ts.Node) => {
    if (ts.isIdentifier(n) && FORBIDDEN.has(n.text)) problems.push(`${file}: identifier ${n.text} in code`);
    if (ts.isTemplateExpression(n)) problems.push(`${file}: template literal with a substitution`);
    n.forEachChild(visit);
  };
  visit(sf);
  return problems;
}

interface Outcome {
  rejected: string[];
  files: Map<string, string> | null;
}

async function outcome(files: Files): Promise<Outcome> {
  const analyzed = await analyzeProject(memoryHost(files));
  const errors = analyzed.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length || !analyzed.ir) return { rejected: errors.map((d) => d.code), files: null };
  const out = await compile(analyzed.ir);
  const compileErrors = out.diagnostics.filter((d) => d.severity === 'error');
  if (compileErrors.length) return { rejected: compileErrors.map((d) => d.code), files: null };
  return { rejected: [], files: out.files };
}

describe('hostile names and values', () => {
  const cases = Object.keys(SITES).flatMap((site) => CORPUS.map(([what, payload]) => [site, what, payload] as const));

  it.each(cases)('%s: %s is refused with a diagnostic or emitted as data', async (site, _what, payload) => {
    const r = await outcome(SITES[site](payload));
    if (r.files === null) {
      expect(r.rejected.length).toBeGreaterThan(0);
      for (const code of r.rejected) expect(code).toMatch(/^KILN[12]\d{3}$/);
      return;
    }
    const problems = [...r.files].flatMap(([file, text]) => codeProblems(file, text));
    expect(problems).toEqual([]);
  });

  it('refuses what a name pattern refuses, in every name site', async () => {
    const nameSites = ['catalog dataset name', 'in-memory dataset name', 'node name', 'argument name', 'output field name', 'tag', 'export name', 'node namespace', 'reuse namespace', 'parameter key', 'pipeline name'];
    for (const site of nameSites) {
      for (const [what, payload] of CORPUS.filter(([w]) => !['toString', 'hasOwnProperty'].includes(w))) {
        if (site === 'tag' && /^[A-Za-z0-9_.-]{1,100}$/.test(payload)) continue;
        const r = await outcome(SITES[site](payload));
        expect(r.rejected, `${site}: ${what}`).not.toEqual([]);
      }
    }
  });

  it('reports a schema json-schema-to-typescript cannot convert as KILN1012 at the dataset, not as a crash', async () => {
    const analyzed = await analyzeProject(memoryHost(SITES['schema property name']('hasOwnProperty')));
    const out = await compile(analyzed.ir!);
    expect(out.diagnostics.map((d) => [d.code, d.message, d.location?.file, d.location?.line])).toEqual([
      ['KILN1012', "record schema 'pipelines/a.schema.json' of dataset 'a' cannot be used: it cannot be turned into a TypeScript type (schema.hasOwnProperty is not a function)", 'pipelines/catalog.yaml', 1],
    ]);
    expect(out.files.get('generated/schemas/a.ts')).toContain('export type A = unknown;');
  });

  it('keeps look-alike names apart from the names they imitate', async () => {
    for (const lookAlike of ['dаta', 'ｄａｔａ', 'da\u200dta']) {
      const r = await outcome(SITES['catalog dataset name'](lookAlike));
      expect(r.rejected).toContain('KILN1008');
    }
  });
});

describe('a project holding every accepted hostile value', () => {
  const values = CORPUS.map(([, p]) => p);
  const gateSafe = values.filter((p) => !['__proto__', 'constructor', 'prototype'].includes(p));
  const files: Files = {
    'kiln.yaml': y({ name: 'corpus' }),
    'pipelines/p/nodes.ts': NODES + 'export function echo(record: unknown[]): unknown[] {\n  return record;\n}\n',
    'pipelines/parameters.yaml': y({ hostile: Object.fromEntries(values.map((p, i) => [`v${i}`, p])), list: values }),
    'pipelines/catalog.yaml': y({
      records: { type: 'json', path: 'data/records.json', schema: './records.schema.json', description: values.join(' ') },
      echoed: { type: 'json', path: 'data/echoed.json', description: values[0] },
    }),
    'pipelines/records.schema.json': JSON.stringify({
      type: 'array',
      title: values[4],
      description: values.join(' '),
      tsType: `any; globalThis.${MARK} = 1`,
      items: {
        type: 'object',
        tsType: `any; globalThis.${MARK} = 1`,
        description: values.join(' '),
        properties: Object.fromEntries([
          // json-schema-to-typescript cannot take a property named hasOwnProperty (KILN1012, tested above).
          ...values.filter((p) => p !== '__proto__' && p !== 'hasOwnProperty').map((p, i) => [p, { type: 'string', description: p, tsType: `string; globalThis.${MARK} = ${i}` }]),
          ['choice', { enum: values }],
          ['fixed', { const: values[0] }],
          ['ref', { $ref: '#/definitions/evil' }],
        ]),
        additionalProperties: false,
      },
      definitions: { evil: { type: 'object', title: values[4], description: values[4], properties: { z: { type: 'number' } } } },
    }),
    'pipelines/p/pipeline.yaml': y({
      pipeline: 'p',
      nodes: [
        { name: 'load', run: './nodes.ts#f', inputs: ['params:hostile', 'params:list'], outputs: 'records_raw' },
        { name: 'echo', run: './nodes.ts#echo', inputs: ['records'], outputs: 'echoed' },
        { name: 'toString', run: './nodes.ts#f', inputs: ['echoed'], outputs: 'hasOwnProperty' },
        { name: 'valueOf', run: './nodes.ts#f', inputs: ['hasOwnProperty'], outputs: { isPrototypeOf: 'toLocaleString' } },
      ],
      model: { name: 'corpus-model', input: 'records', output: 'echoed', gate: { metrics: Object.fromEntries(gateSafe.map((p) => [p, '>= 0.5'])) } },
    }),
  };

  it('compiles, type-checks, and runs without executing anything from the corpus', async () => {
    const root = makeProject(files, 'kiln-corpus-');
    const r = await buildProject(root, { typecheck: true });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const out = r.output!;
    expect([...out.files].flatMap(([f, t]) => codeProblems(f, t))).toEqual([]);
    expect(r.ir!.pipelines.p.model!.gate!.metrics).toHaveProperty([values[0]]);
    expect(Object.keys(r.ir!.pipelines.p.model!.gate!.metrics)).toHaveLength(gateSafe.length);
    await writeGenerated(root, 'generated', out.files);

    const index = (await import(pathToFileURL(path.join(root, 'generated/index.ts')).href)) as { pipelines: Record<string, () => Promise<unknown>>; models: Record<string, () => Promise<unknown>> };
    expect(Object.keys(index.pipelines)).toEqual(['p']);
    expect(Object.keys(index.models)).toEqual(['corpus-model']);
    for (const m of [await index.pipelines.p(), await index.models['corpus-model']()] as Array<{ nodes: Record<string, { inputs: string[]; run: (d: Record<string, unknown>) => Promise<Record<string, unknown>> }> }>) {
      for (const [name, n] of Object.entries(m.nodes)) {
        const d = Object.fromEntries(n.inputs.map((i) => [i, values]));
        const result = await n.run(d);
        expect(typeof result, name).toBe('object');
      }
      expect(Object.getPrototypeOf(m.nodes)).toBe(Object.prototype);
    }
    for (const f of ['datasets.ts', 'parameters.ts', 'schemas/records.ts']) await import(pathToFileURL(path.join(root, 'generated', f)).href);
    expect((globalThis as Record<string, unknown>)[MARK]).toBeUndefined();
    expect(fs.existsSync(MARKER_FILE)).toBe(false);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

/** Every string of a value, with keys and strings equal to a placeholder replaced (params:<placeholder> too). */
function rename<T>(value: T, map: Map<string, string>): T {
  const one = (s: string) => map.get(s) ?? (s.startsWith('params:') && map.has(s.slice(7)) ? `params:${map.get(s.slice(7))}` : s);
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return one(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== 'object') return v;
    const out: Record<string, unknown> = Object.getPrototypeOf(v) === null ? (Object.create(null) as Record<string, unknown>) : {};
    for (const [k, x] of Object.entries(v)) Object.defineProperty(out, one(k), { value: walk(x), enumerable: true, writable: true, configurable: true });
    return out;
  };
  return walk(value) as T;
}

describe('code generation when validation is bypassed (defence in depth)', () => {
  // The schema patterns keep hostile names out of the IR; codegen must still emit any name it is given as data.
  // __proto__ is left out: as an object literal key it would set the prototype, which the patterns and KILN2028 prevent.
  const payloads = [...new Set(CORPUS.map(([, p]) => p))].filter((p) => p !== '__proto__' && p !== '');
  const n = payloads.length;
  const ph = (kind: string, i: number) => `${kind}${i}`;
  const files: Files = {
    'kiln.yaml': y({ name: 'corpus' }),
    'pipelines/p/nodes.ts': 'export function f(args: Record<string, unknown>): Record<string, unknown> {\n  return args;\n}\nexport function g(): unknown[] {\n  return [];\n}\n',
    'pipelines/catalog.yaml': y({ ds0: { type: 'json', path: 'data/ds0.json' } }),
    'pipelines/parameters.yaml': y(Object.fromEntries(payloads.map((_, i) => [ph('k', i), i]))),
    'pipelines/p/pipeline.yaml': y({
      pipeline: 'p',
      nodes: [
        { name: 'src', run: './nodes.ts#g', outputs: 'ds0' },
        ...payloads.map((_, i) => ({ name: ph('node', i), run: './nodes.ts#f', inputs: { [ph('arg', i)]: ph('ds', i), [ph('karg', i)]: `params:${ph('k', i)}` }, outputs: { [ph('out', i)]: ph('ds', i + 1) } })),
      ],
      model: { name: 'model0', input: 'ds0', output: 'ds1' },
    }),
  };
  const map = new Map<string, string>([['corpus', payloads[0]], ['model0', payloads[1]]]);
  payloads.forEach((p, i) => {
    map.set(ph('ds', i + 1), `${p} ds`);
    map.set(ph('node', i), `${p} node`);
    map.set(ph('arg', i), `${p} arg`);
    map.set(ph('karg', i), `${p} karg`);
    map.set(ph('out', i), `${p} out`);
    // A dot in a parameter reference separates levels (params:a.b), so keys get none.
    map.set(ph('k', i), `${p.replace(/\./g, '_')} key`);
  });

  it('emits hostile dataset, node, argument, field, parameter, model and project names as data that type-checks and runs', async () => {
    const root = makeProject(files, 'kiln-bypass-');
    const analyzed = await analyzeProject(root);
    expect(analyzed.diagnostics).toEqual([]);
    // Names printed in comments (the project, the declaration file) carry a line break that would end a // comment.
    const lineBreak = `a\nglobalThis.${MARK} = 1; //`;
    const renamed = rename(analyzed.ir!, map);
    const ir = { ...renamed, settings: { ...renamed.settings, name: lineBreak }, pipelines: { p: { ...renamed.pipelines.p, file: `pipelines/${lineBreak}\u2028/pipeline.yaml` } } };
    expect(ir.pipelines.p.nodes.map((x) => x.name)).toContain(`${payloads[0]} node`);
    const out = await compile(ir);
    expect(out.diagnostics).toEqual([]);
    expect([...out.files].flatMap(([f, t]) => codeProblems(f, t))).toEqual([]);
    const { typecheck } = await import('../../src/codegen/typecheck.ts');
    expect(typecheck(ir, out).diagnostics).toEqual([]);
    await writeGenerated(root, 'generated', out.files);
    const mod = (await import(pathToFileURL(path.join(root, 'generated/p.ts')).href)) as { order: string[]; nodes: Record<string, { inputs: string[]; run: (d: Record<string, unknown>) => Promise<Record<string, unknown>> }> };
    expect(mod.order).toHaveLength(n + 1);
    expect(Object.keys(mod.nodes)).toEqual(mod.order);
    for (const [name, node] of Object.entries(mod.nodes)) {
      const result = await node.run(Object.fromEntries(node.inputs.map((i) => [i, i])));
      if (name !== 'src') expect(Object.keys(result)).toHaveLength(1);
    }
    const model = (await import(pathToFileURL(path.join(root, 'generated/p.model.ts')).href)) as { model: { name: string } };
    expect(model.model.name).toBe(payloads[1]);
    expect((globalThis as Record<string, unknown>)[MARK]).toBeUndefined();
    expect(fs.existsSync(MARKER_FILE)).toBe(false);
  });

  it('refuses to emit an export name that is not an identifier, or a pipeline name that is not a file name', async () => {
    const root = makeProject(files, 'kiln-bypass-');
    const analyzed = await analyzeProject(root);
    const badExport = rename(analyzed.ir!, new Map([['g', `g(); globalThis.${MARK} = 1; //`]]));
    await expect(compile(badExport)).rejects.toThrow(/^internal: refusing to emit .* as an identifier$/);
    const badPipeline = { ...analyzed.ir!, pipelines: { '../../escape': { ...analyzed.ir!.pipelines.p, name: '../../escape' } } };
    await expect(compile(badPipeline)).rejects.toThrow('internal: refusing to name a generated file after "../../escape"');
  });
});
