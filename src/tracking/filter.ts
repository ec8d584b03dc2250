// The run search language (MLflow's, mostly): `metrics.accuracy > 0.9 and params.split.seed = 1 and tags.branch = 'main'`.
// Text → tokens → AST → a parameterised SQL condition on `runs r`, for SQLite or PostgreSQL. Values are always bound, never spliced into the SQL;
// identifiers in the SQL come only from the tables below.
import { diag, didYouMean, KilnError } from '../diagnostics/index.ts';

export type Scope = 'metrics' | 'params' | 'tags' | 'attributes';
export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'LIKE' | 'ILIKE';

export interface Field {
  /** null for a bare name (`status`), which is looked up among the attributes. */
  scope: Scope | null;
  key: string;
  /** As written, and where (1-based column) and how long, for diagnostics. */
  text: string;
  column: number;
  length: number;
}

export type Literal = { type: 'number'; value: number } | { type: 'string'; value: string } | { type: 'boolean'; value: boolean };

export interface Comparison {
  kind: 'compare';
  field: Field;
  op: CompareOp;
  value: Literal;
  valueColumn: number;
  valueLength: number;
}

export type FilterExpr = { kind: 'and'; left: FilterExpr; right: FilterExpr } | { kind: 'or'; left: FilterExpr; right: FilterExpr } | Comparison;

export interface SqlCondition {
  /** A condition on the `runs` table aliased `r`; `1` for an empty filter. */
  where: string;
  params: Array<string | number>;
}

type TokenKind = 'word' | 'number' | 'string' | 'op' | 'lparen' | 'rparen' | 'end';
interface Token {
  kind: TokenKind;
  text: string;
  value?: string | number;
  column: number;
  length: number;
}

const SCOPES: Record<string, Scope> = {
  metric: 'metrics', metrics: 'metrics',
  param: 'params', params: 'params', parameter: 'params', parameters: 'params',
  tag: 'tags', tags: 'tags',
  attribute: 'attributes', attributes: 'attributes', attr: 'attributes', run: 'attributes',
};

const DIRTY_SQL = `(CASE r.git_dirty WHEN 1 THEN 'true' WHEN 0 THEN 'false' END)`;

/** The run columns a filter may name: the only identifiers that reach the SQL besides the fixed table names. */
const ATTRIBUTES: Record<string, { sql: string; type: 'text' | 'number' }> = {
  id: { sql: 'r.id', type: 'text' },
  run_id: { sql: 'r.id', type: 'text' },
  pipeline: { sql: 'r.pipeline', type: 'text' },
  status: { sql: 'r.status', type: 'text' },
  commit: { sql: 'r.git_commit', type: 'text' },
  branch: { sql: 'r.git_branch', type: 'text' },
  dirty: { sql: DIRTY_SQL, type: 'text' },
  backend: { sql: 'r.backend', type: 'text' },
  kiln_version: { sql: 'r.kiln_version', type: 'text' },
  node_version: { sql: 'r.node_version', type: 'text' },
  tfjs_version: { sql: 'r.tfjs_version', type: 'text' },
  start_time: { sql: 'r.start_time', type: 'number' },
  end_time: { sql: 'r.end_time', type: 'number' },
};

/** Tags that come from the git stamp rather than from the tags table. */
export const GIT_TAGS: Record<string, string> = { branch: 'r.git_branch', commit: 'r.git_commit', dirty: DIRTY_SQL };

const FIELD_LIST = 'metrics.<key>, params.<key>, tags.<key> (tags.branch, tags.commit, tags.dirty from git), attributes.<name> or a bare name: ' + Object.keys(ATTRIBUTES).join(', ');

class FilterSyntax {
  constructor(
    readonly text: string,
    readonly column: number,
    readonly length: number,
    readonly problem: string,
  ) {}
}

function caret(text: string, column: number, length: number): string {
  const shown = text.replace(/[\t\r\n]/g, ' ');
  return `${shown}\n${' '.repeat(Math.max(0, column - 1))}${'^'.repeat(Math.max(1, length))}`;
}

function syntaxError(text: string, column: number, length: number, problem: string): KilnError {
  return new KilnError(diag('KILN4005', { column, problem }, undefined, caret(text, column, length)));
}

function describe(t: Token): string {
  return t.kind === 'end' ? 'the end of the filter' : `'${t.text}'`;
}

const WORD_START = /[A-Za-z_]/;
const WORD_CHAR = /[A-Za-z0-9_.\-/:]/;
const NUMBER = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fail = (at: number, length: number, problem: string) => {
    throw new FilterSyntax(text, at + 1, length, problem);
  };
  const readQuoted = (start: number): [string, number] => {
    const q = text[start];
    let out = '';
    let j = start + 1;
    for (;;) {
      if (j >= text.length) fail(start, text.length - start, `unterminated ${q === '`' ? 'quoted name' : 'string'} (missing closing ${q})`);
      if (text[j] === q) {
        if (text[j + 1] === q) {
          out += q; // a doubled quote stands for the quote itself, as in SQL
          j += 2;
          continue;
        }
        return [out, j + 1];
      }
      out += text[j++];
    }
  };
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === '(' || c === ')') {
      tokens.push({ kind: c === '(' ? 'lparen' : 'rparen', text: c, column: i + 1, length: 1 });
      i++;
      continue;
    }
    const two = text.slice(i, i + 2);
    if (two === '!=' || two === '<>' || two === '<=' || two === '>=' || two === '==') {
      tokens.push({ kind: 'op', text: two, column: i + 1, length: 2 });
      i += 2;
      continue;
    }
    if (c === '=' || c === '<' || c === '>') {
      tokens.push({ kind: 'op', text: c, column: i + 1, length: 1 });
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      const [value, end] = readQuoted(i);
      tokens.push({ kind: 'string', text: text.slice(start, end), value, column: start + 1, length: end - start });
      i = end;
      continue;
    }
    const num = NUMBER.exec(text.slice(i));
    if (num && (c !== '-' || /[\d.]/.test(text[i + 1] ?? ''))) {
      i += num[0].length;
      if (i < text.length && WORD_CHAR.test(text[i])) fail(start, 1 + (i - start), `'${text.slice(start, i + 1)}' is not a number`);
      tokens.push({ kind: 'number', text: num[0], value: Number(num[0]), column: start + 1, length: num[0].length });
      continue;
    }
    if (WORD_START.test(c)) {
      while (i < text.length && WORD_CHAR.test(text[i])) i++;
      let word = text.slice(start, i);
      // `metrics.`my key`` or `metrics."my key"`: a key with characters a bare word cannot hold.
      if (word.endsWith('.') && (text[i] === '`' || text[i] === '"')) {
        const [key, end] = readQuoted(i);
        word += '\u0000' + key;
        i = end;
      }
      tokens.push({ kind: 'word', text: text.slice(start, i), value: word, column: start + 1, length: i - start });
      continue;
    }
    fail(i, 1, `unexpected character '${c}'`);
  }
  tokens.push({ kind: 'end', text: '', column: text.length + 1, length: 1 });
  return tokens;
}

const isKeyword = (t: Token, kw: string) => t.kind === 'word' && t.text.toLowerCase() === kw;

/** Parses a filter; null for an empty one (all runs). Syntax errors are KILN4005 with a caret under the column. */
export function parseFilter(text: string): FilterExpr | null {
  try {
    const tokens = tokenize(text);
    let pos = 0;
    const peek = () => tokens[pos];
    const next = () => tokens[pos++];
    const fail = (t: Token, problem: string): never => {
      throw new FilterSyntax(text, t.column, t.length, problem);
    };

    const parseField = (): Field => {
      const t = next();
      if (t.kind !== 'word' || ['and', 'or', 'like', 'ilike', 'true', 'false'].includes(t.text.toLowerCase())) {
        return fail(t, `expected a field such as metrics.accuracy or params.seed, found ${describe(t)}`);
      }
      const raw = String(t.value);
      const quoted = raw.indexOf('\u0000');
      const dot = quoted >= 0 ? quoted - 1 : raw.indexOf('.');
      if (dot < 0) return { scope: null, key: raw, text: t.text, column: t.column, length: t.length };
      const prefix = raw.slice(0, dot);
      const key = quoted >= 0 ? raw.slice(quoted + 1) : raw.slice(dot + 1);
      const scope = SCOPES[prefix.toLowerCase()];
      if (!scope) {
        throw new KilnError(
          diag('KILN4006', { field: t.text, column: t.column, suggestion: didYouMean(prefix, Object.keys(SCOPES)).replace(/^ did/, ' Did'), allowed: FIELD_LIST }, undefined, caret(text, t.column, dot || 1)),
        );
      }
      if (key === '') fail(t, `'${t.text}' names no key; write ${prefix}.<key>`);
      return { scope, key, text: t.text, column: t.column, length: t.length };
    };

    const parseComparison = (): FilterExpr => {
      const field = parseField();
      const t = next();
      let op: CompareOp;
      if (t.kind === 'op') op = t.text === '==' ? '=' : t.text === '<>' ? '!=' : (t.text as CompareOp);
      else if (isKeyword(t, 'like')) op = 'LIKE';
      else if (isKeyword(t, 'ilike')) op = 'ILIKE';
      else return fail(t, `expected a comparison (= != < <= > >= LIKE ILIKE) after '${field.text}', found ${describe(t)}`);
      const v = next();
      let value: Literal;
      if (v.kind === 'number') value = { type: 'number', value: v.value as number };
      else if (v.kind === 'string') value = { type: 'string', value: v.value as string };
      else if (isKeyword(v, 'true') || isKeyword(v, 'false')) value = { type: 'boolean', value: v.text.toLowerCase() === 'true' };
      else return fail(v, `expected a value (a number or a 'quoted string') after '${t.text}', found ${describe(v)}`);
      return { kind: 'compare', field, op, value, valueColumn: v.column, valueLength: v.length };
    };

    const parsePrimary = (): FilterExpr => {
      if (peek().kind === 'lparen') {
        const open = next();
        const inner = parseOr();
        const close = next();
        if (close.kind !== 'rparen') fail(close.kind === 'end' ? open : close, close.kind === 'end' ? "this '(' is never closed" : `expected ')' or 'and'/'or', found ${describe(close)}`);
        return inner;
      }
      return parseComparison();
    };
    const parseAnd = (): FilterExpr => {
      let left = parsePrimary();
      while (isKeyword(peek(), 'and')) {
        next();
        left = { kind: 'and', left, right: parsePrimary() };
      }
      return left;
    };
    const parseOr = (): FilterExpr => {
      let left = parseAnd();
      while (isKeyword(peek(), 'or')) {
        next();
        left = { kind: 'or', left, right: parseAnd() };
      }
      return left;
    };

    if (peek().kind === 'end') return null;
    const expr = parseOr();
    const rest = peek();
    if (rest.kind !== 'end') fail(rest, `expected 'and', 'or' or the end of the filter, found ${describe(rest)}`);
    return expr;
  } catch (e) {
    if (e instanceof FilterSyntax) throw syntaxError(e.text, e.column, e.length, e.problem);
    throw e;
  }
}

/** LIKE's % and _ as GLOB's * and ?, with GLOB's own wildcards taken literally: LIKE stays case-sensitive, as in MLflow. */
function likeToGlob(pattern: string): string {
  let out = '';
  for (const ch of pattern) {
    if (ch === '%') out += '*';
    else if (ch === '_') out += '?';
    else if (ch === '*' || ch === '?' || ch === '[') out += `[${ch}]`;
    else out += ch;
  }
  return out;
}

/**
 * The SQL a store speaks. SQLite: `?` placeholders, LIKE as GLOB. PostgreSQL: `$n` placeholders (numbered from
 * `firstPlaceholder`), its own case-sensitive LIKE and ILIKE, numbers bound as double precision.
 */
export type SqlDialect = 'sqlite' | 'postgres';

/** LIKE's pattern for PostgreSQL, whose LIKE reads a backslash as its escape character: a backslash is literal in ours. */
const postgresLike = (pattern: string) => pattern.replace(/\\/g, '\\\\');

/** Turns the AST into SQL; `text` is the filter as written, for diagnostics. */
export function compileFilter(expr: FilterExpr | null, text: string, dialect: SqlDialect = 'sqlite', firstPlaceholder = 1): SqlCondition {
  const params: Array<string | number> = [];
  const pg = dialect === 'postgres';
  /** Binds `value` and returns its placeholder. */
  const bind = (value: string | number): string => {
    params.push(value);
    if (!pg) return '?';
    const n = `$${firstPlaceholder + params.length - 1}`;
    return typeof value === 'number' ? `${n}::double precision` : n;
  };
  const typeError = (e: Comparison, problem: string): never => {
    throw syntaxError(text, e.valueColumn, e.valueLength, problem);
  };
  const asText = (v: Literal): string => (v.type === 'string' ? v.value : String(v.value));

  /** `column op ?` with the value bound; LIKE becomes GLOB (case-sensitive), ILIKE SQLite's LIKE (case-insensitive). */
  const compare = (column: string, e: Comparison, kind: 'text' | 'number'): string => {
    if (kind === 'number') {
      if (e.value.type !== 'number') typeError(e, `'${e.field.text}' holds numbers; compare it with a number, not ${e.value.type === 'string' ? `the string '${e.value.value}'` : e.value.value}`);
      if (e.op === 'LIKE' || e.op === 'ILIKE') typeError(e, `${e.op} compares strings; '${e.field.text}' holds numbers`);
      return `${column} ${e.op} ${bind(e.value.value as number)}`;
    }
    let value = asText(e.value);
    if (e.field.key === 'status' && (e.field.scope === null || e.field.scope === 'attributes') && e.op !== 'LIKE') value = value.toUpperCase();
    if (e.op === 'LIKE') return pg ? `${column} LIKE ${bind(postgresLike(value))}` : `${column} GLOB ${bind(likeToGlob(value))}`;
    if (e.op === 'ILIKE') return pg ? `${column} ILIKE ${bind(postgresLike(value))}` : `${column} LIKE ${bind(value)}`;
    return `${column} ${e.op} ${bind(value)}`;
  };

  const walk = (e: FilterExpr): string => {
    if (e.kind !== 'compare') return `(${walk(e.left)} ${e.kind.toUpperCase()} ${walk(e.right)})`;
    const f = e.field;
    switch (f.scope) {
      case 'metrics': {
        return `EXISTS (SELECT 1 FROM latest_metrics m WHERE m.run_id = r.id AND m.key = ${bind(f.key)} AND ${compare('m.value', e, 'number')})`;
      }
      case 'params': {
        const numeric = e.value.type === 'number' && e.op !== 'LIKE' && e.op !== 'ILIKE';
        const key = bind(f.key);
        return `EXISTS (SELECT 1 FROM params p WHERE p.run_id = r.id AND p.key = ${key} AND ${compare(numeric ? 'p.value_num' : 'p.value_text', e, numeric ? 'number' : 'text')})`;
      }
      case 'tags': {
        const git = GIT_TAGS[f.key];
        if (git) return compare(git, e, 'text');
        const key = bind(f.key);
        return `EXISTS (SELECT 1 FROM tags t WHERE t.run_id = r.id AND t.key = ${key} AND ${compare('t.value', e, 'text')})`;
      }
      default: {
        const attr = ATTRIBUTES[f.key];
        if (!attr) {
          const hint = didYouMean(f.key, Object.keys(ATTRIBUTES)).replace(/^ did/, ' Did');
          const suggestion = f.scope === null && !hint ? ` Did you mean metrics.${f.key} or params.${f.key}?` : hint;
          throw new KilnError(diag('KILN4006', { field: f.text, column: f.column, suggestion, allowed: FIELD_LIST }, undefined, caret(text, f.column, f.length)));
        }
        return compare(attr.sql, e, attr.type);
      }
    }
  };

  if (!expr) return { where: pg ? 'TRUE' : '1', params };
  return { where: walk(expr), params };
}

/** Parse and compile in one step. */
export function filterToSql(text: string, dialect: SqlDialect = 'sqlite', firstPlaceholder = 1): SqlCondition {
  return compileFilter(parseFilter(text), text, dialect, firstPlaceholder);
}
