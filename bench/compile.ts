// Benchmark of the compiler front to back on synthetic projects of 100, 1,000 and 10,000 nodes, written to a
// temporary folder: milliseconds per stage (load + validate, IR, checks, codegen) and, reported apart, the
// TypeScript type-check with its growth from one size to the next. The baseline, measured in the same run, is
// yaml's own parse of the same declaration files: the floor the load stage cannot go under.
//
//   npx tsx bench/compile.ts [--sizes 100,1000,10000] [--reps 3] [--no-typecheck]
//   npx tsx bench/compile.ts --keys 3000,10000,30000
//
// Prints JSON. Target: every stage but the type-check under 1 s at 1,000 nodes.
// --keys measures `kiln validate` (load, validate, resolve, check, render every diagnostic) on one file of many keys:
// parameters.yaml, then the catalog (each entry unused, so each a rendered warning). The first size is the baseline;
// a linear validate keeps msPerKey flat (its ratio to the baseline's near 1 or below). Target: 30,000 parameter keys
// under 1 s.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { fsHost } from '../src/config/host.ts';
import { loadProject } from '../src/config/load.ts';
import { resolveProject } from '../src/ir/resolve.ts';
import { checkProject } from '../src/check/index.ts';
import { compile } from '../src/codegen/compile.ts';
import { typecheck } from '../src/codegen/typecheck.ts';
import { hasErrors } from '../src/diagnostics/diagnostic.ts';
import { renderDiagnostics } from '../src/diagnostics/render.ts';
import { analyzeProject } from '../src/project.ts';

const NODES_PER_PIPELINE = 100;
const FUNCTIONS = 10;

/** A project of `nodes` nodes: pipelines of 100 chained nodes with some fan-in, typed functions, schemas and parameters. */
export function writeSyntheticProject(root: string, nodes: number): void {
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  };
  write('kiln.yaml', 'name: synthetic\n');
  write('package.json', '{ "type": "module" }\n');
  write('tsconfig.json', JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'preserve', moduleResolution: 'bundler', strict: true, noEmit: true, allowImportingTsExtensions: true, skipLibCheck: true, lib: ['ES2023'], types: [] } }, null, 2));
  const functions = Array.from({ length: FUNCTIONS }, (_, f) => `export function step${f}(args: { values: Row[]; extra: Row[]; factor: number }): Row[] {\n  return args.values.map((r, i) => ({ id: r.id, value: r.value * args.factor + (args.extra[i]?.value ?? 0) + ${f} }));\n}\n`);
  write('pipelines/shared/nodes.ts', `export interface Row {\n  id: string;\n  value: number;\n}\n\nexport function source(): Row[] {\n  return [{ id: 'a', value: 1 }];\n}\n\n${functions.join('\n')}`);
  write('pipelines/shared/row.schema.json', JSON.stringify({ type: 'array', items: { type: 'object', additionalProperties: false, required: ['id', 'value'], properties: { id: { type: 'string' }, value: { type: 'number' } } } }, null, 2));
  write('pipelines/parameters.yaml', Array.from({ length: FUNCTIONS }, (_, f) => `f${f}: ${f + 1}`).join('\n') + '\n');
  const pipelines = Math.ceil(nodes / NODES_PER_PIPELINE);
  const catalog: string[] = [];
  for (let p = 0; p < pipelines; p++) {
    const count = Math.min(NODES_PER_PIPELINE, nodes - p * NODES_PER_PIPELINE);
    const lines = [`pipeline: p${p}`, 'nodes:', '  - name: source', '    run: ../shared/nodes.ts#source', `    outputs: p${p}_d0`];
    for (let i = 1; i < count; i++) {
      const extra = i >= 3 ? `p${p}_d${i - 3}` : `p${p}_d0`;
      lines.push(`  - name: n${i}`, `    run: ../shared/nodes.ts#step${i % FUNCTIONS}`, `    inputs: { values: p${p}_d${i - 1}, extra: ${extra}, factor: params:f${i % FUNCTIONS} }`, `    outputs: p${p}_d${i}`, `    tags: [t${i % 5}]`);
    }
    write(`pipelines/p${p}/pipeline.yaml`, lines.join('\n') + '\n');
    catalog.push(`p${p}_d0:\n  type: json\n  path: data/p${p}/d0.json\n  schema: ./shared/row.schema.json`, `p${p}_d${count - 1}:\n  type: json\n  path: data/p${p}/out.json\n  schema: ./shared/row.schema.json`);
  }
  write('pipelines/catalog.yaml', catalog.join('\n') + '\n');
}

interface Stages {
  loadValidate: number;
  ir: number;
  checks: number;
  codegen: number;
  total: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const round = (x: number) => Math.round(x * 10) / 10;

async function measure(root: string): Promise<{ stages: Stages; typecheck: () => number; files: number; bytes: number }> {
  let t = performance.now();
  const loaded = await loadProject(fsHost(root));
  const loadValidate = performance.now() - t;
  if (hasErrors(loaded.diagnostics)) throw new Error(`synthetic project does not validate: ${loaded.diagnostics[0].message}`);
  t = performance.now();
  const resolved = resolveProject(loaded);
  const ir = performance.now() - t;
  t = performance.now();
  const diagnostics = [...resolved.diagnostics, ...(await checkProject(resolved.ir!, loaded.sources, resolved.cyclic))];
  const checks = performance.now() - t;
  if (hasErrors(diagnostics)) throw new Error(`synthetic project has errors: ${diagnostics.find((d) => d.severity === 'error')!.message}`);
  t = performance.now();
  const output = await compile(resolved.ir!);
  const codegen = performance.now() - t;
  return {
    stages: { loadValidate, ir, checks, codegen, total: loadValidate + ir + checks + codegen },
    typecheck: () => {
      const t0 = performance.now();
      const r = typecheck(resolved.ir!, output);
      if (r.diagnostics.length) throw new Error(`synthetic project does not type-check: ${r.diagnostics[0].message}`);
      return performance.now() - t0;
    },
    files: output.files.size,
    bytes: [...output.files.values()].reduce((s, x) => s + x.length, 0),
  };
}

/** yaml's parse of the declaration files alone: the baseline of the load stage. */
function yamlBaseline(root: string): number {
  const files = fs.readdirSync(path.join(root, 'pipelines'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.yaml'));
  const texts = files.map((f) => fs.readFileSync(path.join(root, 'pipelines', f), 'utf8'));
  const t = performance.now();
  for (const text of texts) parseDocument(text).toJS();
  return performance.now() - t;
}

/**
 * A valid project with `keys` keys in one file: parameters.yaml (`parameters`), or the catalog, each entry unused and
 * so a rendered warning (`catalog`).
 */
export function writeManyKeysProject(root: string, keys: number, kind: 'parameters' | 'catalog'): void {
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  };
  const many = (line: (i: number) => string, n: number) => Array.from({ length: n }, (_, i) => line(i)).join('\n') + '\n';
  write('kiln.yaml', 'name: many-keys\n');
  write('package.json', '{ "type": "module" }\n');
  write('pipelines/parameters.yaml', many((i) => `k${i}: ${i}`, kind === 'parameters' ? keys : 1));
  write('pipelines/catalog.yaml', many((i) => `d${i}: { type: json, path: data/d${i}.json }`, kind === 'catalog' ? keys : 1));
  write('pipelines/demo/pipeline.yaml', 'pipeline: demo\nnodes:\n  - name: first\n    run: ./nodes.ts#first\n    inputs: { rows: d0, k: params:k0 }\n    outputs: out\n');
  write('pipelines/demo/nodes.ts', 'export function first(rows: unknown, k: number): number {\n  return k;\n}\n');
}

/** Milliseconds of `kiln validate` in this process, printing included (to a string). */
async function validateMs(root: string): Promise<{ ms: number; diagnostics: number }> {
  const t = performance.now();
  const analyzed = await analyzeProject(root);
  if (!analyzed.ok) throw new Error(`many-keys project does not validate: ${analyzed.diagnostics.find((d) => d.severity === 'error')!.message}`);
  const text = renderDiagnostics(analyzed.diagnostics, { color: false, source: (f) => analyzed.loaded.sources.get(f) });
  if (analyzed.diagnostics.length && !text) throw new Error('nothing rendered');
  return { ms: performance.now() - t, diagnostics: analyzed.diagnostics.length };
}

async function keysBench(sizes: number[], reps: number): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-bench-keys-'));
  const results: Array<Record<string, unknown>> = [];
  try {
    const warm = path.join(dir, 'warm');
    writeManyKeysProject(warm, 100, 'catalog');
    await validateMs(warm);
    for (const kind of ['parameters', 'catalog'] as const) {
      let baseline: number | null = null;
      for (const keys of sizes) {
        const root = path.join(dir, `${kind}-${keys}`);
        writeManyKeysProject(root, keys, kind);
        const runs: number[] = [];
        let diagnostics = 0;
        for (let r = 0; r < reps; r++) {
          const m = await validateMs(root);
          runs.push(m.ms);
          diagnostics = m.diagnostics;
        }
        const ms = median(runs);
        const perKey = ms / keys;
        baseline ??= perKey;
        results.push({ file: kind, keys, validateMs: round(ms), msPerKey: Number(perKey.toFixed(4)), ratioToBaseline: round(perKey / baseline), renderedDiagnostics: diagnostics });
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const target = results.find((r) => r.file === 'parameters' && r.keys === 30_000);
  process.stdout.write(JSON.stringify({ bench: 'compile --keys', node: process.version, cpus: os.cpus().length, loadavg: os.loadavg().map((x) => Number(x.toFixed(2))), baseline: `${sizes[0]} keys of the same file, same run`, target: '30,000 parameter keys under 1000 ms; ms per key flat (linear)', met: target ? (target.validateMs as number) < 1000 : null, results }, null, 2) + '\n');
}

async function main(argv: string[]): Promise<void> {
  const arg = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const sizes = (arg('--sizes') ?? '100,1000,10000').split(',').map(Number);
  const reps = Number(arg('--reps') ?? 3);
  if (arg('--keys')) return keysBench(arg('--keys')!.split(',').map(Number), reps);
  const withTypecheck = !argv.includes('--no-typecheck');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-bench-compile-'));
  const results: Array<Record<string, unknown>> = [];
  try {
    // Warm-up: module loading and JIT are not what this measures.
    const warm = path.join(dir, 'warm');
    writeSyntheticProject(warm, 50);
    await measure(warm);
    let previousTypecheck: number | null = null;
    for (const nodes of sizes) {
      const root = path.join(dir, `n${nodes}`);
      writeSyntheticProject(root, nodes);
      const runs: Stages[] = [];
      let last: Awaited<ReturnType<typeof measure>> | null = null;
      for (let r = 0; r < (nodes >= 10_000 ? 1 : reps); r++) {
        last = await measure(root);
        runs.push(last.stages);
      }
      const stages = Object.fromEntries((Object.keys(runs[0]) as Array<keyof Stages>).map((k) => [k, round(median(runs.map((s) => s[k])))])) as unknown as Stages;
      const typecheckMs = withTypecheck && last ? round(last.typecheck()) : null;
      results.push({
        nodes,
        stagesMs: stages,
        underOneSecond: stages.total < 1000,
        typecheckMs,
        typecheckGrowth: typecheckMs !== null && previousTypecheck !== null ? round(typecheckMs / previousTypecheck) : null,
        baselineYamlParseMs: round(yamlBaseline(root)),
        generatedFiles: last!.files,
        generatedBytes: last!.bytes,
      });
      previousTypecheck = typecheckMs;
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(JSON.stringify({ bench: 'compile', node: process.version, cpus: os.cpus().length, target: 'stages except type-check < 1000 ms at 1,000 nodes', results }, null, 2) + '\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  await main(process.argv.slice(2));
}
