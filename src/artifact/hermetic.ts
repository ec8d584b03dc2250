// Hermetic inference, enforced where the code shows it: the inference path may read only its input records and its
// fitted state, so the project's own code that an inference node reaches may not import file, process, network or VM
// modules, nor read process.env, unless the node declares the exemption (`inference: { allow: [...] }`).
import path from 'node:path';
import { SourceMap } from 'node:module';
import { build, type Plugin } from 'esbuild';
import { LineCounter } from 'yaml';
import { diag, KilnError } from '../diagnostics/diagnostic.ts';
import type { Diagnostic } from '../diagnostics/types.ts';
import type { NodeIR } from '../ir/types.ts';
import { kilnCodeDir, kilnSelf } from '../runtime/kiln-self.ts';
import { INFERENCE_BUNDLE } from './bundle.ts';

/** Modules through which code reaches files, processes, the network or another VM; fs/promises is `fs` here. */
export const GUARDED_MODULES = ['fs', 'child_process', 'net', 'http', 'https', 'http2', 'dgram', 'dns', 'tls', 'worker_threads', 'cluster', 'vm'];
export const ENV_EXEMPTION = 'process.env';

interface Escape {
  /** The exemption that would allow it: a module of GUARDED_MODULES, or process.env. */
  exemption: string;
  /** The module specifier as written (`node:fs/promises`), or `process.env`. */
  what: string;
  /** Project-relative file and 1-based position in the node's own source. */
  file: string;
  line: number;
  column: number;
}

/** The guarded module a specifier names (`node:fs/promises` → fs), or null. */
function guarded(specifier: string): string | null {
  const base = specifier.replace(/^node:/, '').split('/')[0];
  return GUARDED_MODULES.includes(base) ? base : null;
}

// Markers esbuild writes into the scan bundle where surviving code imports a guarded module or reads process.env;
// the source map takes each back to the line of the project file that wrote it.
const MODULE_MARKER = 'kiln-guarded:';
const ENV_MARKER = '__kiln_process_env__';

/** Rewrites guarded imports (static, require(), import() with a literal) to external markers that survive bundling. */
const markGuarded: Plugin = {
  name: 'kiln-mark-guarded',
  setup(b) {
    b.onResolve({ filter: new RegExp(`^(node:)?(${GUARDED_MODULES.join('|')})(/.*)?$`) }, (args) => (guarded(args.path) ? { path: `${MODULE_MARKER}${args.path}`, external: true, sideEffects: false } : undefined));
  },
};

/** 0-based line and column of every marker in the bundle. */
function findInBundle(code: string): Array<{ line: number; character: number; exemption: string; what: string }> {
  const found: Array<{ index: number; exemption: string; what: string }> = [];
  for (const m of code.matchAll(new RegExp(`["'\`]${MODULE_MARKER}([^"'\`]+)["'\`]`, 'g'))) found.push({ index: m.index!, exemption: guarded(m[1])!, what: m[1] });
  for (const m of code.matchAll(new RegExp(`\\b${ENV_MARKER}\\b`, 'g'))) found.push({ index: m.index!, exemption: ENV_EXEMPTION, what: 'process.env' });
  const lines = new LineCounter();
  lines.addNewLine(0); // LineCounter is fed line starts, the first one included
  for (let i = code.indexOf('\n'); i >= 0; i = code.indexOf('\n', i + 1)) lines.addNewLine(i + 1);
  return found.map((f) => {
    const { line, col } = lines.linePos(f.index); // 1-based; source maps count from 0
    return { line: line - 1, character: col - 1, exemption: f.exemption, what: f.what };
  });
}

/** Whether a bundled source file is the project's own code (not kiln, not a package from node_modules). */
function isProjectCode(abs: string, projectRoot: string): boolean {
  const rel = path.relative(projectRoot, abs);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return false;
  if (rel.split(path.sep).includes('node_modules')) return false;
  const inKiln = path.relative(kilnCodeDir, abs);
  return inKiln.startsWith('..') || path.isAbsolute(inKiln);
}

/**
 * The escapes in the code one node runs: its function and what it reaches, after tree shaking, so code that only
 * training nodes of the same module use does not count. Positions are mapped back to the project's files.
 */
async function escapesOf(projectRoot: string, node: NodeIR): Promise<Escape[]> {
  const outfile = path.join(projectRoot, '.kiln-inference-scan.js');
  const result = await build({
    stdin: { contents: `export { ${node.func.export} } from ${JSON.stringify(`./${node.func.module}`)};\n`, resolveDir: projectRoot, sourcefile: 'inference-scan-entry.js', loader: 'js' },
    ...INFERENCE_BUNDLE,
    outfile,
    sourcemap: 'external',
    sourcesContent: false,
    treeShaking: true,
    define: { 'process.env': ENV_MARKER },
    plugins: [kilnSelf, markGuarded],
  });
  const code = result.outputFiles.find((f) => f.path.endsWith('.js'))!.text;
  const map = new SourceMap(JSON.parse(result.outputFiles.find((f) => f.path.endsWith('.map'))!.text));
  const escapes: Escape[] = [];
  for (const f of findInBundle(code)) {
    const entry = map.findEntry(f.line, f.character) as { originalSource?: string; originalLine?: number; originalColumn?: number };
    if (!entry.originalSource) continue;
    const abs = path.resolve(path.dirname(outfile), entry.originalSource);
    if (!isProjectCode(abs, projectRoot)) continue;
    escapes.push({ exemption: f.exemption, what: f.what, file: path.relative(projectRoot, abs).split(path.sep).join('/'), line: (entry.originalLine ?? 0) + 1, column: (entry.originalColumn ?? 0) + 1 });
  }
  return escapes;
}

/** KILN6012/KILN6013 for every escape of every inference node that the node does not declare as allowed. */
export async function checkHermetic(root: string, model: string, nodes: NodeIR[]): Promise<Diagnostic[]> {
  const projectRoot = path.resolve(root);
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const node of nodes) {
    for (const e of await escapesOf(projectRoot, node)) {
      if (node.inferenceAllow.includes(e.exemption)) continue;
      const key = `${node.name}\0${e.file}:${e.line}:${e.column}\0${e.exemption}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const location = { file: e.file, line: e.line, column: e.column, endLine: e.line, endColumn: e.column + (e.exemption === ENV_EXEMPTION ? 'process.env'.length : e.what.length + 2) - 1 };
      const args = { node: node.name, model, what: e.what, file: e.file, line: e.line, allow: e.exemption, yaml: node.declaredIn };
      out.push(diag(e.exemption === ENV_EXEMPTION ? 'KILN6013' : 'KILN6012', args, location));
    }
  }
  return out;
}

/** Refuses to build an artifact whose inference path escapes (every escape of every node reported at once). */
export async function assertHermetic(projectRoot: string, model: string, nodes: NodeIR[]): Promise<void> {
  const found = await checkHermetic(projectRoot, model, nodes);
  if (found.length) throw new KilnError(found);
}
