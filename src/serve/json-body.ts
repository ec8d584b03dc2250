// Request bodies as JSON values, read as MLflow reads them: Python's json module also takes NaN, Infinity and
// -Infinity (what json.dumps writes for non-finite floats). Nesting is bounded first, so that no later step (schema
// validation, JSON.stringify in a message, the model) can overflow the stack on a hostile body.

/** Arrays and objects nested deeper than this are refused; MLflow's deepest request form (tensors) needs a few. */
export const MAX_BODY_DEPTH = 64;

export interface BodyScan {
  /** Offset of the first bracket past the depth limit, or -1. */
  tooDeepAt: number;
  /** The text has NaN or Infinity outside strings (valid JSON has no capital letters there). */
  nonFinite: boolean;
}

/** One pass over the text, skipping strings; linear, and cheap next to JSON.parse. */
export function scanBody(text: string, maxDepth = MAX_BODY_DEPTH): BodyScan {
  const n = text.length;
  let depth = 0;
  let nonFinite = false;
  for (let pos = 0; pos < n; pos++) {
    const c = text.charCodeAt(pos);
    if (c === 0x22) {
      pos = stringEnd(text, pos);
      if (pos === -1) break; // unterminated: JSON.parse reports it
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return { tooDeepAt: pos, nonFinite };
    } else if (c === 0x5d || c === 0x7d) depth--;
    else if (c === 0x4e || c === 0x49) nonFinite = true; // N, I
  }
  return { tooDeepAt: -1, nonFinite };
}

/** Offset of the quote closing the string that opens at `open`, or -1. */
function stringEnd(text: string, open: number): number {
  let q = text.indexOf('"', open + 1);
  while (q !== -1) {
    let backslashes = 0;
    while (text.charCodeAt(q - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return q;
    q = text.indexOf('"', q + 1);
  }
  return -1;
}

const SYNTAX = Symbol('syntax');
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * Parses JSON extended with NaN, Infinity and -Infinity, or returns undefined when the text is not that (the caller
 * then locates the error). Recursive: call it only on text whose depth scanBody has bounded.
 */
export function parseWithNonFinite(text: string): { value: unknown } | undefined {
  let pos = 0;
  const space = () => {
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) pos++;
      else return;
    }
  };
  const word = (w: string, v: unknown): unknown => {
    if (!text.startsWith(w, pos)) throw SYNTAX;
    pos += w.length;
    return v;
  };
  const string = (): string => {
    const end = stringEnd(text, pos);
    if (end === -1) throw SYNTAX;
    let s: unknown;
    try {
      s = JSON.parse(text.slice(pos, end + 1)); // escapes and control characters exactly as JSON.parse treats them
    } catch {
      throw SYNTAX;
    }
    pos = end + 1;
    return s as string;
  };
  const value = (): unknown => {
    space();
    const c = text.charCodeAt(pos);
    if (c === 0x22) return string();
    if (c === 0x7b) {
      pos++;
      const obj: Record<string, unknown> = {};
      space();
      if (text.charCodeAt(pos) === 0x7d) return pos++, obj;
      for (;;) {
        space();
        if (text.charCodeAt(pos) !== 0x22) throw SYNTAX;
        const key = string();
        space();
        if (text.charCodeAt(pos++) !== 0x3a) throw SYNTAX;
        // An own property, as JSON.parse makes it: assigning '__proto__' would set the prototype instead.
        Object.defineProperty(obj, key, { value: value(), writable: true, enumerable: true, configurable: true });
        space();
        const next = text.charCodeAt(pos++);
        if (next === 0x7d) return obj;
        if (next !== 0x2c) throw SYNTAX;
      }
    }
    if (c === 0x5b) {
      pos++;
      const list: unknown[] = [];
      space();
      if (text.charCodeAt(pos) === 0x5d) return pos++, list;
      for (;;) {
        list.push(value());
        space();
        const next = text.charCodeAt(pos++);
        if (next === 0x5d) return list;
        if (next !== 0x2c) throw SYNTAX;
      }
    }
    if (c === 0x74) return word('true', true);
    if (c === 0x66) return word('false', false);
    if (c === 0x6e) return word('null', null);
    if (c === 0x4e) return word('NaN', NaN);
    if (c === 0x49) return word('Infinity', Infinity);
    if (c === 0x2d && text.startsWith('-Infinity', pos)) return word('-Infinity', -Infinity);
    NUMBER.lastIndex = pos;
    const m = NUMBER.exec(text);
    if (!m || m[0] === '-') throw SYNTAX;
    pos += m[0].length;
    return Number(m[0]);
  };
  try {
    const v = value();
    space();
    return pos === text.length ? { value: v } : undefined;
  } catch (e) {
    if (e === SYNTAX) return undefined;
    throw e;
  }
}
