// Type-checks the generated modules together with the node code they import, and reports each error at the YAML
// that caused it: a wrong wiring is a compile error at the node's input, not a crash at hour three.
import path from 'node:path';
import { createRequire } from 'node:module';
import type * as TS from 'typescript';
import { diag } from '../diagnostics/diagnostic.ts';
import type { Diagnostic, SourceLocation } from '../diagnostics/types.ts';
import type { ProjectIR } from '../ir/types.ts';
import { mapDatasetsModule, mapPipelineModule, type LineOrigin } from './linemap.ts';
import type { CompileOutput } from './compile.ts';

// Required, not imported: imported from an ES module, Node would first scan all of TypeScript's 9 MB for its named
// exports (cjs-module-lexer), which costs more than loading it.
const ts: typeof TS = createRequire(import.meta.url)('typescript');

const REQUIRED: TS.CompilerOptions = {
  noEmit: true,
  allowImportingTsExtensions: true,
  skipLibCheck: true,
  strict: true,
  noUnusedLocals: false,
  noUnusedParameters: false,
  declaration: false,
  composite: false,
  incremental: false,
};

const DEFAULTS: TS.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.Preserve,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  resolveJsonModule: true,
  esModuleInterop: true,
  lib: ['lib.es2023.d.ts'],
};

export function compilerOptions(root: string): TS.CompilerOptions {
  const configPath = path.join(root, 'tsconfig.json');
  let options: TS.CompilerOptions = { ...DEFAULTS };
  if (ts.sys.fileExists(configPath)) {
    const read = ts.readConfigFile(configPath, ts.sys.readFile);
    if (!read.error) {
      const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, root, undefined, configPath);
      // module and moduleResolution go together (NodeNext with kiln's default Bundler is an error): a project that
      // sets either gets TypeScript's pairing, not half of kiln's defaults.
      const { module: _module, moduleResolution: _resolution, ...rest } = DEFAULTS;
      const ownModule = parsed.options.module !== undefined || parsed.options.moduleResolution !== undefined;
      options = { ...(ownModule ? rest : DEFAULTS), ...parsed.options };
    }
  }
  return { ...options, ...REQUIRED };
}

function flatten(m: string | TS.DiagnosticMessageChain): string {
  return ts.flattenDiagnosticMessageText(m, '\n');
}

function tsLocation(file: TS.SourceFile, start: number, length: number, relFile: string): SourceLocation {
  const s = file.getLineAndCharacterOfPosition(start);
  const e = file.getLineAndCharacterOfPosition(Math.max(start, start + length - 1));
  return { file: relFile, line: s.line + 1, column: s.character + 1, endLine: e.line + 1, endColumn: e.character + 2 };
}

function innermost(sf: TS.SourceFile, pos: number): TS.Node | undefined {
  let found: TS.Node | undefined;
  const visit = (n: TS.Node) => {
    if (pos >= n.getStart(sf) && pos < n.getEnd()) {
      found = n;
      n.forEachChild(visit);
    }
  };
  sf.forEachChild(visit);
  return found;
}

/** The expression `d["x"]` or `r[...]` on the error line, for describing the types involved. */
function expressionAt(sf: TS.SourceFile, start: number, kind: 'element' | 'satisfies'): TS.Expression | undefined {
  let n = innermost(sf, start);
  while (n) {
    if (kind === 'element' && ts.isElementAccessExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === 'd') return n;
    if (kind === 'satisfies' && ts.isSatisfiesExpression(n)) return n;
    n = n.parent;
  }
  // The error may sit on the property name of `"key": d["x"]`.
  const line = sf.getLineAndCharacterOfPosition(start).line;
  let result: TS.Expression | undefined;
  const visit = (x: TS.Node) => {
    if (result) return;
    if (sf.getLineAndCharacterOfPosition(x.getStart(sf)).line === line) {
      if (kind === 'element' && ts.isElementAccessExpression(x) && ts.isIdentifier(x.expression) && x.expression.text === 'd') result = x;
      if (kind === 'satisfies' && ts.isSatisfiesExpression(x)) result = x;
    }
    x.forEachChild(visit);
  };
  sf.forEachChild(visit);
  return result;
}

/** A parameter input that does not fit is fixed in parameters.yaml as often as in the wiring: point at its line too. */
function withParameter(d: Diagnostic, origin: LineOrigin, ir: ProjectIR): Diagnostic {
  if (origin.kind !== 'input' || !origin.binding.dataset.startsWith('params:')) return d;
  const key = origin.binding.dataset.slice('params:'.length);
  const location = ir.parameters.locations[key];
  return location ? { ...d, related: [{ message: `parameter '${key}' is declared`, location }] } : d;
}

function describeOrigin(origin: LineOrigin, checker: TS.TypeChecker, sf: TS.SourceFile, start: number, tsMessage: string): Diagnostic {
  const show = (t: TS.Type | undefined) => (t ? checker.typeToString(t, undefined, ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.UseAliasDefinedOutsideCurrentScope) : 'unknown');
  switch (origin.kind) {
    case 'input': {
      const n = origin.node;
      const fn = n.func.export;
      const arg = origin.binding.key ?? `argument ${origin.binding.index + 1}`;
      const expr = expressionAt(sf, start, 'element');
      const actual = expr ? show(checker.getTypeAtLocation(expr)) : undefined;
      const expected = expr ? checker.getContextualType(expr) : undefined;
      const message = actual && expected
        ? `input '${origin.binding.key ?? origin.binding.dataset}' of node '${n.name}' is ${actual}, but ${fn} expects '${arg}: ${show(expected)}'`
        : `input '${origin.binding.key ?? origin.binding.dataset}' of node '${n.name}' does not fit ${fn}: ${tsMessage.split('\n')[0]}`;
      return diag('KILN2022', { message, hint: `Wire a dataset of the type ${fn} expects to '${arg}', or change the function's parameter type in ${n.func.module}.` }, origin.binding.location ?? n.location, tsMessage);
    }
    case 'output': {
      const n = origin.node;
      const expr = expressionAt(sf, start, 'satisfies');
      const actual = expr && ts.isSatisfiesExpression(expr) ? show(checker.getTypeAtLocation(expr.expression)) : undefined;
      const expected = expr && ts.isSatisfiesExpression(expr) ? show(checker.getTypeFromTypeNode(expr.type)) : undefined;
      const message = actual && expected
        ? `output '${origin.binding.dataset}' of node '${n.name}' is ${actual}, but dataset '${origin.binding.dataset}' holds ${expected}`
        : `output '${origin.binding.dataset}' of node '${n.name}' does not fit: ${tsMessage.split('\n')[0]}`;
      return diag('KILN2022', { message, hint: `Make ${n.func.export} return what the catalog entry '${origin.binding.dataset}' declares (its schema or dataset type), or change the entry.` }, origin.binding.location ?? n.location, tsMessage);
    }
    case 'call':
      return diag('KILN2022', { message: `node '${origin.node.name}' calls ${origin.node.func.export} with inputs that do not fit its parameters: ${tsMessage.split('\n')[0]}`, hint: `Compare the node's inputs with the parameters of ${origin.node.func.export} in ${origin.node.func.module}.` }, origin.node.location, tsMessage);
    case 'dataset': {
      if (origin.producer) {
        const { node, binding } = origin.producer;
        return diag('KILN2022', { message: `output '${binding.key ?? binding.dataset}' of node '${node.name}' is not something ${node.func.export} returns: ${tsMessage.split('\n')[0]}`, hint: `${node.func.export} must return ${node.outputForm === 'map' ? `an object with a field '${binding.key}'` : node.outputForm === 'list' ? `an array with an element ${binding.index}` : 'a value'}.` }, binding.location ?? node.location, tsMessage);
      }
      return diag('KILN2022', { message: `dataset '${origin.dataset}' has no usable type: ${tsMessage.split('\n')[0]}`, hint: 'Check the record schema of the catalog entry.' }, origin.location, tsMessage);
    }
    case 'model':
      return diag('KILN2022', { message: `the model binding of pipeline '${origin.pipeline}' does not type-check: ${tsMessage.split('\n')[0]}`, hint: 'Check model.input, model.input_schema and the nodes that read the input.' }, origin.location, tsMessage);
  }
}

export interface TypecheckResult {
  diagnostics: Diagnostic[];
  /** Project-relative paths of the project's own source files the program read (for cache keys). */
  projectFiles: string[];
}

export function typecheck(ir: ProjectIR, output: CompileOutput): TypecheckResult {
  const root = ir.settings.root;
  const options = compilerOptions(root);
  const generated = new Map<string, string>();
  for (const [rel, text] of output.files) generated.set(path.resolve(root, rel), text);
  const host = ts.createCompilerHost(options, true);
  const baseGet = host.getSourceFile.bind(host);
  const baseExists = host.fileExists.bind(host);
  const baseRead = host.readFile.bind(host);
  const generatedDirs = new Set([...generated.keys()].flatMap((f) => {
    const dirs: string[] = [];
    for (let d = path.dirname(f); d.length > root.length; d = path.dirname(d)) dirs.push(d);
    return dirs;
  }));
  const baseDirExists = host.directoryExists?.bind(host);
  host.directoryExists = (d) => generatedDirs.has(path.resolve(d)) || (baseDirExists ? baseDirExists(d) : ts.sys.directoryExists(d));
  host.fileExists = (f) => generated.has(path.resolve(f)) || baseExists(f);
  host.readFile = (f) => generated.get(path.resolve(f)) ?? baseRead(f);
  host.getSourceFile = (f, lang, onError, create) => {
    const text = generated.get(path.resolve(f));
    return text !== undefined ? ts.createSourceFile(f, text, lang, true) : baseGet(f, lang, onError, create);
  };
  const program = ts.createProgram({ rootNames: [...generated.keys()].filter((f) => f.endsWith('.ts')), options, host });
  const checker = program.getTypeChecker();

  const origins = new Map<string, Array<LineOrigin | undefined>>();
  const moduleNodes = new Map<string, { nodes: ProjectIR['pipelines'][string]['nodes']; model?: { pipeline: string; location?: SourceLocation } }>();
  for (const p of Object.values(ir.pipelines)) {
    moduleNodes.set(path.resolve(root, output.pipelineModules[p.name]), { nodes: p.nodes });
    if (p.model) moduleNodes.set(path.resolve(root, output.modelModules[p.model.name]), { nodes: p.nodes.filter((n) => p.model!.nodes.includes(n.name)), model: { pipeline: p.name, location: p.model.location } });
  }
  const originOf = (abs: string, line: number): LineOrigin | undefined => {
    let map = origins.get(abs);
    if (!map) {
      const text = generated.get(abs) ?? '';
      const mod = moduleNodes.get(abs);
      map = abs.endsWith(`${path.sep}datasets.ts`) ? mapDatasetsModule(text, ir) : mod ? mapPipelineModule(text, mod.nodes, mod.model) : [];
      origins.set(abs, map);
    }
    return map[line];
  };

  const diagnostics: Diagnostic[] = [];
  const projectFiles: string[] = [];
  for (const sf of program.getSourceFiles()) {
    const abs = path.resolve(sf.fileName);
    const rel = path.relative(root, abs).split(path.sep).join('/');
    const inProject = !rel.startsWith('..') && !rel.split('/').includes('node_modules');
    if (!inProject) continue;
    if (!generated.has(abs)) projectFiles.push(rel);
    const list = [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)];
    for (const d of list) {
      if (d.category !== ts.DiagnosticCategory.Error || d.start === undefined) continue;
      const message = flatten(d.messageText);
      if (generated.has(abs)) {
        const line = sf.getLineAndCharacterOfPosition(d.start).line;
        const origin = originOf(abs, line);
        if (origin) diagnostics.push(withParameter(describeOrigin(origin, checker, sf, d.start, message), origin, ir));
        else diagnostics.push(diag('KILN2023', { message: `in generated code (${rel}:${line + 1}): ${message.split('\n')[0]}`, file: rel }, undefined, message));
      } else {
        diagnostics.push(diag('KILN2023', { message: `TS${d.code}: ${message.split('\n')[0]}`, file: rel }, tsLocation(sf, d.start, d.length ?? 1, rel), message.includes('\n') ? message : undefined));
      }
    }
  }
  for (const d of program.getGlobalDiagnostics()) {
    if (d.category === ts.DiagnosticCategory.Error) diagnostics.push(diag('KILN2023', { message: flatten(d.messageText), file: 'the TypeScript configuration' }));
  }
  for (const d of program.getOptionsDiagnostics()) {
    if (d.category === ts.DiagnosticCategory.Error) diagnostics.push(diag('KILN2023', { message: flatten(d.messageText), file: 'tsconfig.json' }));
  }
  return { diagnostics, projectFiles: projectFiles.sort() };
}
