// The only ways a value from YAML reaches generated code: validated identifiers and JSON string literals.

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** A JavaScript string literal for any string (JSON escaping; safe inside TypeScript source). */
export function lit(s: string): string {
  return JSON.stringify(s).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** An identifier that was validated by the schema; re-checked here so a bug upstream cannot become an injection. */
export function ident(s: string): string {
  if (!IDENTIFIER.test(s)) throw new Error(`internal: refusing to emit ${JSON.stringify(s)} as an identifier`);
  return s;
}

/** Text safe inside a line comment: no line breaks or comment terminators. */
export function commentText(s: string): string {
  return s.replace(/[^\w./@:,() -]/g, '?');
}

/** PascalCase name for a generated type, from a file or dataset name. */
export function typeName(s: string): string {
  const words = s.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const name = words.map((w) => w[0].toUpperCase() + w.slice(1)).join('');
  return /^[A-Za-z_]/.test(name) ? name : `T${name}`;
}
