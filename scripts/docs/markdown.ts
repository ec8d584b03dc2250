// Text from the code (schema descriptions, option help, diagnostic messages) placed in Markdown: outside code spans a
// `<dir>` would be read as an HTML tag and vanish on GitHub, `__proto__` would turn bold, and in a table a `|` would
// end the cell.

/** Escapes what Markdown would read as markup (tags, emphasis) outside `code spans`. */
export function prose(text: string): string {
  return text
    .split('`')
    .map((part, i) => (i % 2 ? part : part.replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/([_*])/g, '\\$1')))
    .join('`');
}

/** Prose fit for one table cell: on one line, with `|` escaped. */
export function cell(text: string): string {
  return prose(text).replace(/\|/g, '\\|').replace(/\n+/g, ' ');
}

/** Text for a code span inside a table cell: only `|` needs escaping there. */
export function codeCell(text: string): string {
  return text.replace(/\|/g, '\\|');
}
