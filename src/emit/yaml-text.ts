// Manifests as YAML text, written by hand rather than by the YAML library: every string is a double-quoted JSON
// literal (valid YAML, and nothing in it can become structure), keys are plain only when they are plain words, and a
// 1,000-node workflow takes milliseconds instead of the library's second.
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

// JSON leaves these characters raw; YAML reads them as line breaks (or a byte-order mark) inside a quoted string.
const YAML_BREAKS = /[\u0085\u2028\u2029\ufeff]/g;

function scalar(v: null | boolean | number | string): string {
  if (typeof v === 'string') return JSON.stringify(v).replace(YAML_BREAKS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return JSON.stringify(v);
}

const key = (k: string) => (/^[A-Za-z_][A-Za-z0-9_./-]*$/.test(k) ? k : scalar(k));

const isEmpty = (v: Json) => (Array.isArray(v) ? v.length === 0 : v !== null && typeof v === 'object' && Object.keys(v).length === 0);

function write(v: Json, indent: string, out: string[]): void {
  if (Array.isArray(v)) {
    for (const item of v) {
      if (item !== null && typeof item === 'object' && !isEmpty(item)) {
        const inner: string[] = [];
        write(item, `${indent}  `, inner);
        out.push(`${indent}- ${inner[0].slice(indent.length + 2)}`, ...inner.slice(1));
      } else out.push(`${indent}- ${item !== null && typeof item === 'object' ? (Array.isArray(item) ? '[]' : '{}') : scalar(item)}`);
    }
    return;
  }
  for (const [k, val] of Object.entries(v as Record<string, Json>)) {
    if (val !== null && typeof val === 'object' && !isEmpty(val)) {
      out.push(`${indent}${key(k)}:`);
      write(val, Array.isArray(val) ? indent : `${indent}  `, out);
    } else out.push(`${indent}${key(k)}: ${val !== null && typeof val === 'object' ? (Array.isArray(val) ? '[]' : '{}') : scalar(val)}`);
  }
}

/** A YAML document of `value` (a mapping), block style, in the order of its keys. */
export function yamlText(value: { [k: string]: Json }): string {
  const out: string[] = [];
  write(value, '', out);
  return `${out.join('\n')}\n`;
}
