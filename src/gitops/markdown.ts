// GitHub-flavoured Markdown pieces for what kiln posts on pull requests (plan, report): code spans and tables
// whose cells can hold any text from YAML or run records without breaking the table.
import type { JsonValue } from '../ir/types.ts';

/** A code span holding `text` verbatim (a longer fence when the text has backticks); table pipes escaped. */
export function code(text: string): string {
  const flat = text.replace(/\r?\n/g, ' ');
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((m) => m.length));
  const fence = '`'.repeat(longest + 1);
  const pad = longest ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`.replace(/\|/g, '\\|');
}

/** Plain text for a table cell: pipes escaped, line breaks flattened, Markdown and HTML specials made inert. */
export function cell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/([\\|*_[\]<>#])/g, '\\$1');
}

export function table(header: string[], rows: string[][], align?: Array<'left' | 'right'>): string {
  const sep = header.map((_, i) => (align?.[i] === 'right' ? '---:' : '---'));
  return [header, sep, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n') + '\n';
}

export function details(summary: string, body: string): string {
  return `<details><summary>${summary}</summary>\n\n${body.trimEnd()}\n\n</details>\n`;
}

/** A parameter or field value as people read it: JSON, with absent shown as a dash. */
export function showValue(v: JsonValue | undefined): string {
  if (v === undefined) return '—';
  const s = JSON.stringify(v);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}
