// What every command shares: where output goes, how diagnostics are printed, and how failures become exit codes.
import fs from 'node:fs';
import path from 'node:path';
import { colorEnabled, renderDiagnostics, toJson, hasErrors, sortDiagnostics, isKilnError, type Diagnostic } from '../diagnostics/index.ts';

export const EXIT_OK = 0;
export const EXIT_USER = 1;
export const EXIT_INTERNAL = 2;

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  /** Colour for stdout / stderr (TTY and no NO_COLOR). */
  color: boolean;
  colorErr: boolean;
  isTTY: boolean;
  cwd: string;
}

export function processIo(): Io {
  return {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
    color: colorEnabled(process.stdout),
    colorErr: colorEnabled(process.stderr),
    isTTY: Boolean(process.stderr.isTTY),
    cwd: process.cwd(),
  };
}

/** Reads source text for code frames; sources captured while loading win over the disk. */
export function sourceReader(io: Io, captured?: ReadonlyMap<string, string>): (file: string) => string | undefined {
  return (file) => {
    const c = captured?.get(file);
    if (c !== undefined) return c;
    try {
      const abs = path.resolve(io.cwd, file);
      const st = fs.statSync(abs);
      if (!st.isFile() || st.size > 4 * 1024 * 1024) return undefined;
      return fs.readFileSync(abs, 'utf8');
    } catch {
      return undefined;
    }
  };
}

/** Prints diagnostics (human form on stderr, or a JSON array on stdout) and returns the exit code they imply. */
export function report(io: Io, diagnostics: readonly Diagnostic[], opts: { json?: boolean; sources?: ReadonlyMap<string, string>; root?: string } = {}): number {
  const list = sortDiagnostics([...diagnostics]);
  const root = opts.root ?? io.cwd;
  if (opts.json) {
    io.out(JSON.stringify(list.map((d) => toJson(d.location ? { ...d, location: { ...d.location, file: displayPath(io, path.resolve(root, d.location.file)) } } : d)), null, 2) + '\n');
  } else if (list.length > 0) {
    const read = sourceReader(io, opts.sources);
    io.err(renderDiagnostics(list, { color: io.colorErr, source: (f) => opts.sources?.get(f) ?? read(path.resolve(root, f)), displayPath: (f) => displayPath(io, path.resolve(root, f)) }));
  }
  return hasErrors(list) ? EXIT_USER : EXIT_OK;
}

export function displayPath(io: Io, file: string): string {
  if (!path.isAbsolute(file)) return file;
  const rel = path.relative(io.cwd, file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

/** Turns anything thrown by a command into an exit code: diagnostics for user mistakes, "internal error" for bugs. */
export function handleFailure(io: Io, e: unknown, json = false): number {
  if (isKilnError(e)) {
    const code = report(io, e.diagnostics, { json });
    return code === EXIT_OK ? EXIT_USER : code;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  io.err(
    `internal error: ${err.message}\n` +
      `This is a bug in kiln, not in your project. Please report it at https://github.com/kiln-ml/kiln/issues ` +
      `with the command you ran and the trace below (set KILN_DEBUG=1 for more).\n` +
      `${err.stack ?? ''}\n`,
  );
  return EXIT_INTERNAL;
}
