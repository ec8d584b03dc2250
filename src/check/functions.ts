// Checks that every node's `run:` names a module that exists and an export it has.
import ts from 'typescript';
import { diag } from '../diagnostics/diagnostic.ts';
import { didYouMean } from '../diagnostics/didyoumean.ts';
import type { Diagnostic } from '../diagnostics/types.ts';
import { checkModulePath } from '../ir/pipelines.ts';
import type { NodeIR } from '../ir/types.ts';

/** Names a module exports, or null when it re-exports `*` (then any name may exist). */
export function exportedNames(file: string, text: string): Set<string> | null {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, false, file.endsWith('.js') || file.endsWith('.mjs') ? ts.ScriptKind.JS : ts.ScriptKind.TS);
  const names = new Set<string>();
  let star = false;
  const hasExport = (n: ts.Node) => ts.canHaveModifiers(n) && (ts.getModifiers(n) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
  const hasDefault = (n: ts.Node) => ts.canHaveModifiers(n) && (ts.getModifiers(n) ?? []).some((m) => m.kind === ts.SyntaxKind.DefaultKeyword);
  for (const st of sf.statements) {
    if (ts.isExportDeclaration(st)) {
      // A type is no function a node could run: `export type { X }` and `export { type X }` are not candidates.
      if (st.isTypeOnly) continue;
      if (!st.exportClause) star = true;
      else if (ts.isNamedExports(st.exportClause)) {
        for (const el of st.exportClause.elements) if (!el.isTypeOnly) names.add(el.name.text);
      } else if (ts.isNamespaceExport(st.exportClause)) names.add(st.exportClause.name.text);
    } else if (ts.isExportAssignment(st)) {
      names.add('default');
    } else if (hasExport(st)) {
      if (hasDefault(st)) names.add('default');
      else if (ts.isVariableStatement(st)) {
        for (const d of st.declarationList.declarations) if (ts.isIdentifier(d.name)) names.add(d.name.text);
      } else if ((ts.isFunctionDeclaration(st) || ts.isClassDeclaration(st)) && st.name) names.add(st.name.text);
    }
  }
  return star ? null : names;
}

/** Exports by module text: parsing a module is the slow part of the checks, and a process that analyses a project again (tests, a fuzz) sees the same texts. */
const exportsByText = new Map<string, Set<string> | null>();

function exportsOf(file: string, text: string): Set<string> | null {
  const key = `${file}\0${text}`;
  if (!exportsByText.has(key)) {
    if (exportsByText.size > 500) exportsByText.clear();
    exportsByText.set(key, exportedNames(file, text));
  }
  return exportsByText.get(key)!;
}

export function checkFunctions(nodes: readonly NodeIR[], sources: ReadonlyMap<string, string>, out: Diagnostic[]): void {
  const cache = new Map<string, Set<string> | null>();
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
    if (!cache.has(n.func.module)) cache.set(n.func.module, exportsOf(n.func.module, text));
    const names = cache.get(n.func.module);
    if (names && !names.has(n.func.export)) {
      const list = [...names].sort();
      out.push(diag('KILN2006', { module: n.func.module, export: n.func.export, suggestion: didYouMean(n.func.export, list), exports: list.join(', ') || '(none)' }, n.func.location));
    }
  }
}
