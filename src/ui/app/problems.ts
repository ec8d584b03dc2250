// Diagnostics as the UI shows them: what is wrong, where, and the command that fixes or explains it.
import { el, type Child } from './dom.ts';
import type { DiagnosticJson } from './data.ts';

export function problems(title: string, list: DiagnosticJson[], fix: string | null): HTMLElement {
  return el(
    'section',
    { class: 'problems', role: 'alert', 'aria-label': title },
    el('h2', {}, title),
    el(
      'ul',
      {},
      list.map((d) =>
        el(
          'li',
          { class: `diag ${d.severity}` },
          el('code', { class: 'code' }, d.code),
          ' ',
          d.file ? el('span', { class: 'place' }, `${d.file}${d.line ? `:${d.line}:${d.column ?? 1}` : ''}`) : null,
          ' ',
          el('span', { class: 'message' }, d.message),
          d.hint ? el('div', { class: 'hint' }, d.hint) : null,
        ),
      ),
    ),
    fix ? el('p', {}, 'Run ', el('code', {}, fix), ' in the project for the full report.') : null,
  );
}

/** An empty state: what is missing and the command that makes it. */
export function missing(what: string, command: string, ...more: Child[]): HTMLElement {
  return el('div', { class: 'empty', role: 'status' }, el('p', {}, what), el('p', {}, 'Run ', el('code', {}, command), '.'), more);
}

/** The answer of a failed API call, as problems. */
export function failed(title: string, json: unknown): HTMLElement {
  const j = json as { diagnostics?: DiagnosticJson[]; error?: string; fix?: string };
  if (j.diagnostics?.length) return problems(title, j.diagnostics, j.fix ?? null);
  return el('section', { class: 'problems', role: 'alert' }, el('h2', {}, title), el('p', {}, j.error ?? 'unknown error'));
}
