// Rendering diagnostics for people: file:line:col, severity, code, message, code frame, hint; then a count.
import type { Diagnostic } from './types.ts';
import { maskUrlsIn } from '../url-secrets.ts';

export interface RenderOptions {
  color: boolean;
  /** Text of a source file, for the code frame; undefined when it cannot be shown. */
  source: (file: string) => string | undefined;
  /** Turns a stored file path into the one printed (relative to the working directory, usually). */
  displayPath?: (file: string) => string;
}

const ansi = (code: string) => (s: string) => `\u001b[${code}m${s}\u001b[0m`;
const styles = { red: ansi('31'), yellow: ansi('33'), cyan: ansi('36'), dim: ansi('2'), bold: ansi('1'), blue: ansi('34') };

/** Colour only on a TTY and never with NO_COLOR (https://no-color.org), FORCE_COLOR forces it on. */
export function colorEnabled(stream: NodeJS.WriteStream): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY);
}

let lastText: string | undefined;
let lastLines: string[] = [];

/** The lines of a file, split once for all the diagnostics in it (thousands of them would otherwise split it thousands of times). */
function linesOf(text: string): string[] {
  if (text !== lastText) {
    lastText = text;
    lastLines = text.split(/\r?\n/);
  }
  return lastLines;
}

function codeFrame(d: Diagnostic, text: string, paint: (s: string, style: keyof typeof styles) => string): string[] {
  const loc = d.location!;
  const lines = linesOf(text);
  // The "line" after a final newline is not a line of the file.
  const count = lines.length > 1 && lines[lines.length - 1] === '' ? lines.length - 1 : lines.length;
  const first = Math.max(1, loc.line - 2);
  const last = Math.min(count, Math.max(loc.line, Math.min(loc.endLine, loc.line + 4)) + 1);
  const width = String(last).length;
  const out: string[] = [];
  for (let n = first; n <= last; n++) {
    // A URL in the source (a run store's) may carry a password: the frame shows it masked, as every message does.
    const content = maskUrlsIn((lines[n - 1] ?? '').replace(/\t/g, ' '));
    const marked = n >= loc.line && n <= loc.endLine;
    const gutter = `${marked ? '>' : ' '} ${String(n).padStart(width)} | `;
    out.push(content === '' ? paint(gutter.trimEnd(), marked ? 'bold' : 'dim') : paint(gutter, marked ? 'bold' : 'dim') + content);
    if (marked) {
      const start = n === loc.line ? loc.column : firstNonSpace(content);
      let end = n === loc.endLine ? loc.endColumn : content.length + 1;
      if (end <= start) end = start + 1;
      const caretStart = Math.max(1, start);
      const caretLen = Math.max(1, Math.min(end, content.length + 1) - caretStart);
      const caretLine = ' '.repeat(width + 5) + ' '.repeat(caretStart - 1) + '^'.repeat(caretLen);
      out.push(paint(caretLine, d.severity === 'error' ? 'red' : 'yellow'));
    }
  }
  return out;
}

function firstNonSpace(s: string): number {
  const m = /\S/.exec(s);
  return m ? m.index + 1 : 1;
}

export function renderDiagnostic(d: Diagnostic, opts: RenderOptions): string {
  const paint = (s: string, style: keyof typeof styles) => (opts.color ? styles[style](s) : s);
  const display = opts.displayPath ?? ((f: string) => f);
  const where = d.location ? `${display(d.location.file)}:${d.location.line}:${d.location.column}` : '';
  const sev = paint(d.severity, d.severity === 'error' ? 'red' : d.severity === 'warning' ? 'yellow' : 'blue');
  const head = `${where ? paint(where, 'cyan') + ' ' : ''}${sev} ${paint(d.code, 'dim')}: ${paint(d.message, 'bold')}`;
  const out = [head];
  if (d.detail) for (const line of d.detail.split('\n')) out.push(`  ${line}`);
  if (d.location) {
    const text = opts.source(d.location.file);
    if (text !== undefined) out.push('', ...codeFrame(d, text, paint), '');
  }
  for (const r of d.related ?? []) out.push(`  ${paint('note:', 'cyan')} ${r.message} at ${paint(`${display(r.location.file)}:${r.location.line}:${r.location.column}`, 'cyan')}`);
  if (d.hint) out.push(`  ${paint('hint:', 'cyan')} ${d.hint}`);
  return out.join('\n');
}

export function summarize(list: readonly Diagnostic[]): string {
  const errors = list.filter((d) => d.severity === 'error').length;
  const warnings = list.filter((d) => d.severity === 'warning').length;
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
  return `${plural(errors, 'error')}, ${plural(warnings, 'warning')}`;
}

export function renderDiagnostics(list: readonly Diagnostic[], opts: RenderOptions): string {
  if (list.length === 0) return '';
  return list.map((d) => renderDiagnostic(d, opts)).join('\n\n') + '\n\n' + summarize(list) + '\n';
}
