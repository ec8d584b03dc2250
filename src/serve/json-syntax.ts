// Where a JSON text stops being valid, for error messages: V8's JSON.parse messages sometimes lack the position and
// sometimes quote the whole input (a 5 MB request body echoed back), so after JSON.parse has failed we rescan once.

export interface JsonSyntaxError {
  /** 0-based offset in the text (UTF-16 code units). */
  offset: number;
  /** 1-based line and column of that offset. */
  line: number;
  column: number;
  reason: string;
}

const enum State {
  Value,
  Key,
  After,
}

/**
 * The first syntax error in `text`, or null when the text is one valid JSON value. Iterative: deep nesting is fine.
 * `nonFinite`: NaN, Infinity and -Infinity are values too (Python's json module writes them).
 */
export function findJsonSyntaxError(text: string, nonFinite = false): JsonSyntaxError | null {
  const n = text.length;
  const stack: number[] = []; // 0x5b '[' or 0x7b '{'
  let pos = 0;
  let state = State.Value;
  const fail = (reason: string, at = pos): JsonSyntaxError => locate(text, at, at >= n ? 'unexpected end of input: ' + reason : reason);
  const skipSpace = () => {
    while (pos < n) {
      const c = text.charCodeAt(pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) pos++;
      else break;
    }
  };
  // Each scanner returns null on success (pos moved past the token) or an error.
  const scanString = (): JsonSyntaxError | null => {
    pos++; // opening quote
    while (pos < n) {
      const c = text.charCodeAt(pos);
      if (c === 0x22) {
        pos++;
        return null;
      }
      if (c < 0x20) return fail('control character in a string (escape it, e.g. \\n)');
      if (c === 0x5c) {
        const e = text[pos + 1];
        if (e === undefined) return fail('unterminated string', n);
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(pos + 2, pos + 6))) return fail('bad \\u escape: four hex digits expected');
          pos += 6;
        } else if ('"\\/bfnrt'.includes(e)) pos += 2;
        else return fail(`bad escape '\\${e}' in a string`);
      } else pos++;
    }
    return fail('unterminated string', n);
  };
  const scanNumber = (): JsonSyntaxError | null => {
    if (nonFinite && text.startsWith('-Infinity', pos)) {
      pos += 9;
      return null;
    }
    const m = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    m.lastIndex = pos;
    const r = m.exec(text);
    if (!r || r[0] === '-' || r[0].length === 0) return fail('bad number');
    pos += r[0].length;
    const c = text[pos];
    if (c === '.' || c === 'e' || c === 'E' || (c !== undefined && c >= '0' && c <= '9')) return fail('bad number');
    return null;
  };
  const scanLiteral = (): JsonSyntaxError | null => {
    for (const word of nonFinite ? ['true', 'false', 'null', 'NaN', 'Infinity'] : ['true', 'false', 'null']) {
      if (text.startsWith(word, pos)) {
        pos += word.length;
        return null;
      }
    }
    return fail('expected a value');
  };

  for (;;) {
    skipSpace();
    if (state === State.Value) {
      if (pos >= n) return fail('expected a value');
      const c = text.charCodeAt(pos);
      if (c === 0x7b || c === 0x5b) {
        pos++;
        skipSpace();
        if (text.charCodeAt(pos) === c + 2) {
          pos++; // empty {} or []
          state = State.After;
        } else {
          stack.push(c);
          state = c === 0x7b ? State.Key : State.Value;
        }
        continue;
      }
      const err = c === 0x22 ? scanString() : c === 0x2d || (c >= 0x30 && c <= 0x39) ? scanNumber() : scanLiteral();
      if (err) return err;
      state = State.After;
    } else if (state === State.Key) {
      if (text.charCodeAt(pos) !== 0x22) return fail('expected a property name in double quotes');
      const err = scanString();
      if (err) return err;
      skipSpace();
      if (text.charCodeAt(pos) !== 0x3a) return fail("expected ':' after a property name");
      pos++;
      state = State.Value;
    } else {
      const top = stack[stack.length - 1];
      if (top === undefined) return pos < n ? fail('unexpected text after the JSON value') : null;
      const c = text.charCodeAt(pos);
      if (c === 0x2c) {
        pos++;
        state = top === 0x7b ? State.Key : State.Value;
      } else if (c === top + 2) {
        pos++;
        stack.pop();
      } else return fail(top === 0x7b ? "expected ',' or '}' after a property value" : "expected ',' or ']' after an array element");
    }
  }
}

/** Line and column of `offset`. */
export function locate(text: string, offset: number, reason: string): JsonSyntaxError {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { offset, line, column: offset - lineStart + 1, reason };
}

/** "expected a value at line 1, column 12, near '}]}'" */
export function describeJsonSyntaxError(text: string, e: JsonSyntaxError): string {
  const near = text.slice(e.offset, e.offset + 24);
  return `${e.reason} at line ${e.line}, column ${e.column}${near ? `, near ${JSON.stringify(near)}` : ''}`;
}
