// `kiln init` keeps a project's own tsconfig.json (it is the team's build configuration: changing its module settings
// changes what their tsc emits) and says what it lacks for the files kiln adds. kiln compile type-checks with the
// project's options under kiln's own required ones (src/codegen/typecheck.ts), so only module resolution decides
// whether compile works; the rest is what `tsc -p .` and editors need.
import path from 'node:path';
import ts from 'typescript';
import { diag } from '../diagnostics/diagnostic.ts';
import type { Diagnostic, SourceLocation } from '../diagnostics/types.ts';

const EXPORTS_AWARE = new Set([ts.ModuleResolutionKind.Node16, ts.ModuleResolutionKind.NodeNext, ts.ModuleResolutionKind.Bundler]);
const COMMONJS_EMIT = new Set([ts.ModuleKind.CommonJS, ts.ModuleKind.AMD, ts.ModuleKind.UMD, ts.ModuleKind.System]);

interface ParsedTsconfig {
  options: ts.CompilerOptions;
  include: string[] | null;
  error: string | null;
}

function parse(root: string, text: string): ParsedTsconfig {
  const file = path.join(root, 'tsconfig.json');
  const read = ts.parseConfigFileTextToJson(file, text);
  if (read.error) return { options: {}, include: null, error: ts.flattenDiagnosticMessageText(read.error.messageText, ' ') };
  // `extends` is followed from disk, as tsc does.
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, root, undefined, file);
  const raw = read.config as { include?: unknown; files?: unknown };
  const include = Array.isArray(raw.include) ? raw.include.map(String) : raw.include === undefined && raw.files !== undefined ? [] : null;
  return { options: parsed.options, include, error: null };
}

/** TypeScript's default resolution for a module setting, when moduleResolution is not given. */
function moduleResolutionOf(options: ts.CompilerOptions): ts.ModuleResolutionKind {
  if (options.moduleResolution !== undefined) return options.moduleResolution;
  switch (options.module) {
    case ts.ModuleKind.Node16:
      return ts.ModuleResolutionKind.Node16;
    case ts.ModuleKind.NodeNext:
      return ts.ModuleResolutionKind.NodeNext;
    case ts.ModuleKind.Preserve:
      return ts.ModuleResolutionKind.Bundler;
    case ts.ModuleKind.CommonJS:
    case undefined:
      return ts.ModuleResolutionKind.Node10;
    default:
      return ts.ModuleResolutionKind.Classic;
  }
}

/** Where a compiler option is written, for the warning's location (the top of the file when it is not there). */
function optionLocation(text: string, option: string): SourceLocation {
  const at = text.search(new RegExp(`"${option}"\\s*:`));
  const before = text.slice(0, Math.max(0, at)).split('\n');
  const line = at < 0 ? 1 : before.length;
  const column = at < 0 ? 1 : before[before.length - 1].length + 1;
  return { file: 'tsconfig.json', line, column, endLine: line, endColumn: column + (at < 0 ? 1 : option.length + 2) };
}

/** Whether the project's TypeScript build emits CommonJS .js files, which "type": "module" would make Node misread. */
export function emitsCommonJs(root: string, text: string | undefined): boolean {
  if (text === undefined) return false;
  const { options, error } = parse(root, text);
  return !error && !options.noEmit && options.module !== undefined && COMMONJS_EMIT.has(options.module);
}

/** A warning (KILN7033) listing what the kept tsconfig.json lacks for the files kiln init writes; null when nothing. */
export function checkTsconfig(root: string, text: string, dirs: { pipelines: string; generated: string }): Diagnostic | null {
  const { options, include, error } = parse(root, text);
  if (error) return diag('KILN7033', { problems: `it cannot be read (${error}); kiln compile then type-checks with its own defaults`, fix: 'fix the file' }, { file: 'tsconfig.json', line: 1, column: 1, endLine: 1, endColumn: 2 });
  const problems: string[] = [];
  const fixes: string[] = [];
  let at: SourceLocation | null = null;
  // Unset module settings fall back to kiln's defaults (Preserve/Bundler) in kiln compile, which resolve exports.
  const resolution = options.module === undefined && options.moduleResolution === undefined ? ts.ModuleResolutionKind.Bundler : moduleResolutionOf(options);
  if (!EXPORTS_AWARE.has(resolution)) {
    problems.push(`its module resolution (${ts.ModuleResolutionKind[resolution]}) ignores package "exports", so 'kiln-ml/ml' does not resolve and kiln compile fails`);
    fixes.push('"module": "NodeNext", "moduleResolution": "NodeNext" (or "Bundler")');
    at = optionLocation(text, options.moduleResolution !== undefined ? 'moduleResolution' : 'module');
  }
  if (!options.allowImportingTsExtensions) {
    problems.push('allowImportingTsExtensions is off, so tsc and editors reject the ./x.ts imports in the node files and generated/ (kiln compile turns it on for itself)');
    fixes.push(options.noEmit || options.emitDeclarationOnly ? '"allowImportingTsExtensions": true' : '"allowImportingTsExtensions": true with "noEmit": true, or "rewriteRelativeImportExtensions": true where tsc emits');
    at ??= optionLocation(text, 'compilerOptions');
  }
  if (include !== null) {
    const covers = (dir: string) => include.some((p) => p === '.' || p === './' || p.startsWith('**') || p === dir || p.startsWith(`${dir}/`) || p === `./${dir}` || p.startsWith(`./${dir}/`));
    const missing = [dirs.pipelines, dirs.generated].filter((d) => !covers(d));
    if (missing.length) {
      problems.push(`"include" does not cover ${missing.map((d) => `${d}/`).join(' and ')}, so \`tsc -p .\` does not check them (kiln compile does)`);
      fixes.push(`add ${missing.map((d) => JSON.stringify(d)).join(', ')} to "include"`);
      at ??= optionLocation(text, 'include');
    }
  }
  if (!problems.length) return null;
  return diag('KILN7033', { problems: problems.join('; '), fix: fixes.join('; ') }, at ?? undefined);
}
