// Checks that every node's `run:` names a module that exists and an export it has.
import type { Loader } from 'esbuild';
import { diag } from '../diagnostics/diagnostic.ts';
import { didYouMean } from '../diagnostics/didyoumean.ts';
import type { Diagnostic } from '../diagnostics/types.ts';
import { checkModulePath } from '../ir/module-path.ts';
import type { NodeIR } from '../ir/types.ts';
import { textVerdicts } from '../text-verdicts.ts';

const LOADERS: Record<string, Loader> = { ts: 'ts', mts: 'ts', cts: 'ts', tsx: 'tsx', js: 'js', mjs: 'js', cjs: 'js', jsx: 'jsx' };

/**
 * Names a module exports (values: types are erased, so `export type`, interfaces and type-only names are no
 * candidates), or null when it re-exports `*` (then any name may exist) or does not parse (the type-check says why).
 * esbuild reads them, not the TypeScript compiler: `kiln validate` would spend most of its time loading TypeScript.
 */
export async function exportedNames(file: string, text: string): Promise<Set<string> | null> {
  const { build } = await import('esbuild');
  try {
    const r = await build({
      stdin: { contents: text, loader: LOADERS[file.slice(file.lastIndexOf('.') + 1)] ?? 'ts', sourcefile: file },
      write: false,
      metafile: true,
      format: 'esm',
      outfile: 'module.js',
      logLevel: 'silent',
    });
    // esbuild prints each top-level statement on its own line, `export * from "…";` included.
    if (/^export \* from /m.test(r.outputFiles[0].text)) return null;
    return new Set(r.metafile.outputs['module.js']?.exports ?? []);
  } catch {
    return null;
  }
}

/** Exports by module text: parsing a module is the slow part of the checks, and a process that analyses a project again (tests, a fuzz) sees the same texts. */
const exportsByText = new Map<string, Promise<Set<string> | null>>();
/** The same between commands: a remembered module is not parsed, and esbuild is not started at all. */
const rememberedExports = textVerdicts<string[] | null>('module-exports', import.meta.url, ['esbuild'], (v) => v === null || (Array.isArray(v) && v.every((x) => typeof x === 'string')));

function exportsOf(file: string, text: string): Promise<Set<string> | null> {
  // The loader esbuild uses comes from the extension: it is part of what is judged.
  const key = `${file.slice(file.lastIndexOf('.') + 1)}\0${text}`;
  if (!exportsByText.has(key)) {
    if (exportsByText.size > 500) exportsByText.clear();
    const remembered = rememberedExports.recall(key);
    exportsByText.set(
      key,
      remembered !== undefined
        ? Promise.resolve(remembered && new Set(remembered))
        : exportedNames(file, text).then((names) => (rememberedExports.remember(key, names && [...names]), names)),
    );
  }
  return exportsByText.get(key)!;
}

export async function checkFunctions(nodes: readonly NodeIR[], sources: ReadonlyMap<string, string>, out: Diagnostic[]): Promise<void> {
  // Every module read at once (esbuild works on them in parallel), then the checks in node order.
  const cache = new Map<string, Set<string> | null>();
  const modules = [...new Set(nodes.map((n) => n.func.module))].filter((m) => sources.has(m));
  await Promise.all(modules.map(async (m) => cache.set(m, await exportsOf(m, sources.get(m)!))));
  const missing = new Set<string>();
  for (const n of nodes) {
    if (!checkModulePath(n, out)) continue;
    const text = sources.get(n.func.module);
    if (text === undefined) {
      // Once per module: every node using it would say the same.
      if (!missing.has(n.func.module)) out.push(diag('KILN2005', { module: n.func.module, node: n.name, from: n.declaredIn }, n.func.location));
      missing.add(n.func.module);
      continue;
    }
    const names = cache.get(n.func.module);
    if (names && !names.has(n.func.export)) {
      const list = [...names].sort();
      out.push(diag('KILN2006', { module: n.func.module, export: n.func.export, suggestion: didYouMean(n.func.export, list), exports: list.join(', ') || '(none)' }, n.func.location));
    }
  }
}
