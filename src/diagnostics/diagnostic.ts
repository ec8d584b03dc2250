// Building diagnostics from the catalogue, and the error type library code throws for user mistakes.
import { catalogue, type Code } from './catalogue.ts';
import type { Diagnostic, DiagnosticJson, SourceLocation } from './types.ts';

export type DiagnosticArgs = Record<string, string | number | boolean | null | undefined>;

function fill(template: string, args: DiagnosticArgs): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => {
    const v = args[key];
    return v === undefined || v === null ? (key === 'suggestion' ? '' : whole) : String(v);
  });
}

/** A diagnostic for `code`, its message and hint filled from `args`. */
export function diag(code: Code, args: DiagnosticArgs = {}, location?: SourceLocation, detail?: string): Diagnostic {
  const def = catalogue[code];
  const d: Diagnostic = { code, severity: def.severity, message: fill(def.message, args), hint: fill(def.hint, args) };
  if (location) d.location = location;
  if (detail) d.detail = detail;
  return d;
}

/** Thrown by library functions for user mistakes; the CLI renders its diagnostics and exits 1. */
export class KilnError extends Error {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic | Diagnostic[]) {
    const list = Array.isArray(diagnostics) ? diagnostics : [diagnostics];
    super(list.map((d) => `${d.code}: ${d.message}`).join('\n'));
    this.name = 'KilnError';
    this.diagnostics = list;
  }
}

export function isKilnError(e: unknown): e is KilnError {
  return e instanceof KilnError || (typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'KilnError' && Array.isArray((e as KilnError).diagnostics));
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

export function toJson(d: Diagnostic): DiagnosticJson {
  const l = d.location;
  const out: DiagnosticJson = {
    code: d.code,
    severity: d.severity,
    file: l?.file ?? null,
    line: l?.line ?? null,
    column: l?.column ?? null,
    endLine: l?.endLine ?? null,
    endColumn: l?.endColumn ?? null,
    message: d.message,
    hint: d.hint ?? null,
  };
  if (d.detail) out.detail = d.detail;
  if (d.related?.length) out.related = d.related.map((r) => ({ message: r.message, file: r.location.file, line: r.location.line, column: r.location.column }));
  return out;
}

/** Sort by file, then position, then code, so output is stable whatever order the checks ran in. */
export function sortDiagnostics(list: Diagnostic[]): Diagnostic[] {
  return [...list].sort((a, b) => {
    const fa = a.location?.file ?? '';
    const fb = b.location?.file ?? '';
    if (fa !== fb) return fa < fb ? -1 : 1;
    const la = a.location?.line ?? 0;
    const lb = b.location?.line ?? 0;
    if (la !== lb) return la - lb;
    const ca = a.location?.column ?? 0;
    const cb = b.location?.column ?? 0;
    if (ca !== cb) return ca - cb;
    return a.code < b.code ? -1 : a.code > b.code ? 1 : a.message < b.message ? -1 : a.message > b.message ? 1 : 0;
  });
}

/** Every diagnostic once (checks of a shared node may report the same thing twice), in the order they are printed. */
export function settleDiagnostics(list: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return sortDiagnostics(
    list.filter((d) => {
      const k = `${d.code}|${d.location?.file}|${d.location?.line}|${d.location?.column}|${d.message}`;
      return seen.has(k) ? false : (seen.add(k), true);
    }),
  );
}
