// MLflow's scoring protocol (mlflow/pyfunc/scoring_server): request bodies turned into records, and the error bodies
// and messages MLflow clients expect.
import { didYouMean } from '../diagnostics/index.ts';
import { recordsFromCsv } from './csv-body.ts';
import { bounded, echo, echoList, headerSafe } from './echo.ts';
import { MAX_BODY_DEPTH, parseWithNonFinite, scanBody } from './json-body.ts';
import { describeJsonSyntaxError, findJsonSyntaxError, locate } from './json-syntax.ts';
import type { Predictor } from './predictor.ts';
import { badRequest, invalidParameter, ScoringError } from './scoring-error.ts';

export { badRequest, invalidParameter, ScoringError };

/** The request keys MLflow 2.x accepts, in the order its messages list them. */
export const REQUEST_FORMATS = ['dataframe_split', 'dataframe_records', 'instances', 'inputs'] as const;
export type RequestFormat = (typeof REQUEST_FORMATS)[number];

export const CONTENT_TYPE_JSON = 'application/json';
export const CONTENT_TYPE_CSV = 'text/csv';
/** The body types accepted, in the order MLflow's 415 message lists them. */
const CONTENT_TYPES = [CONTENT_TYPE_CSV, CONTENT_TYPE_JSON] as const;
export type BodyType = 'json' | 'csv';

const REQUIRED_INPUT_FORMAT = `The input must be a JSON dictionary with exactly one of the input fields {${REQUEST_FORMATS.map((f) => `'${f}'`).join(', ')}}`;

/**
 * Checks the Content-Type the way MLflow does: JSON or CSV, UTF-8 only, no other parameters.
 * Returns which body it announces, else the 415 to answer.
 */
export function checkContentType(header: string | undefined): BodyType | ScoringError {
  if (header === CONTENT_TYPE_JSON) return 'json'; // the common case, without splitting
  const parts = (header ?? '').split(';').map((p) => p.trim());
  const mime = (parts[0] ?? '').toLowerCase();
  if (mime !== CONTENT_TYPE_JSON && mime !== CONTENT_TYPE_CSV) {
    const types = CONTENT_TYPES.map((t) => `'${t}'`).join(', ');
    return new ScoringError(415, null, `This predictor only supports the following content types: Types: [${types}]. Got '${cut(header ?? '', 100)}'.`);
  }
  const unexpected: string[] = [];
  for (const p of parts.slice(1)) {
    if (p === '') continue;
    const eq = p.indexOf('=');
    const key = (eq === -1 ? p : p.slice(0, eq)).trim().toLowerCase();
    const value = eq === -1 ? '' : p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1').toLowerCase();
    if (key === 'charset') {
      if (value !== 'utf-8' && value !== 'utf8') return new ScoringError(415, null, 'The scoring server only supports UTF-8');
    } else unexpected.push(key);
  }
  if (unexpected.length > 0) return new ScoringError(415, null, `Unrecognized content type parameters: ${bounded(unexpected.join(', '), 200)}.`);
  return mime === CONTENT_TYPE_CSV ? 'csv' : 'json';
}

/**
 * Parses a request body; a syntax error says where it is instead of echoing the body back. NaN, Infinity and
 * -Infinity are accepted as MLflow (Python's json) accepts them; nesting deeper than MAX_BODY_DEPTH is refused.
 */
export function parseJsonBody(text: string): unknown {
  const scan = scanBody(text);
  if (scan.tooDeepAt !== -1) {
    const at = locate(text, scan.tooDeepAt, '');
    throw badRequest(`The body nests lists and dictionaries more than ${MAX_BODY_DEPTH} levels deep (at line ${at.line}, column ${at.column}); a record is a business object, a few levels at most.`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    if (scan.nonFinite) {
      const parsed = parseWithNonFinite(text);
      if (parsed) return parsed.value;
    }
    const at = findJsonSyntaxError(text, scan.nonFinite);
    const where = at ? describeJsonSyntaxError(text, at) : bounded((e as Error).message, 200);
    throw badRequest(`Ensure that input is a valid JSON formatted string. Error: ${where}`);
  }
}

/** A request's records and which key carried them (the key is named in schema error messages). */
export interface RequestRecords {
  format: RequestFormat | 'csv';
  records: unknown[];
  /** What of the request was ignored, as MLflow ignores it (params, fields beside the input), for a warning. */
  ignored?: string;
}

/** Unknown keys that get a "did you mean" each; the suggestion costs a little per key, and one is usually enough. */
const SUGGESTED_KEYS = 5;

/**
 * Turns a parsed request body into records.
 * `singleField`: the one property of the input schema, when it has exactly one; then, as MLflow does for single-column
 * signatures, `{"inputs": ["a", "b"]}` means `[{field: "a"}, {field: "b"}]`.
 */
export function recordsFromBody(body: unknown, singleField: string | null): RequestRecords {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    const got = Array.isArray(body) ? 'Received a list' : `Received unexpected input type '${body === null ? 'null' : typeof body}'`;
    throw badRequest(`${REQUIRED_INPUT_FORMAT}. ${got}.`);
  }
  const obj = body as Record<string, unknown>;
  let format: RequestFormat | undefined;
  let formats = 0;
  let other: string[] | undefined;
  for (const k in obj) {
    if (k === 'inputs' || k === 'instances' || k === 'dataframe_records' || k === 'dataframe_split') {
      format = k;
      formats++;
    } else if (k !== 'params') (other ??= []).push(k);
  }
  if (formats !== 1) {
    const hints = (other ?? []).slice(0, SUGGESTED_KEYS).map((k) => {
      const s = didYouMean(k, REQUEST_FORMATS);
      return s ? ` For ${echo(k)},${s}` : '';
    });
    throw badRequest(`${REQUIRED_INPUT_FORMAT}. Received dictionary with input fields: ${echoList(Object.keys(obj))}.${hints.join('')}`);
  }
  // MLflow ignores fields beside the input and, for a model without inference parameters, 'params' (its own client
  // sends them); kiln does the same and says so.
  const ignored: string[] = [];
  if (hasParams(obj.params)) ignored.push("'params' (this model takes no inference parameters)");
  if (other !== undefined) ignored.push(`unknown fields ${echoList(other)}`);
  const records = recordsOf(format!, obj[format!], singleField);
  return ignored.length === 0 ? { format: format!, records } : { format: format!, records, ignored: `ignored ${ignored.join(' and ')}` };
}

function recordsOf(format: RequestFormat, value: unknown, singleField: string | null): unknown[] {
  switch (format) {
    case 'inputs':
      if (Array.isArray(value)) return wrapScalars(value, singleField);
      if (typeof value === 'object' && value !== null) return recordsFromColumns(value as Record<string, unknown>);
      throw badRequest(`'inputs' must be a list of records or a dictionary of columns (name to list of values), but is ${kind(value)}.`);
    case 'instances':
      if (Array.isArray(value)) return wrapScalars(value, singleField);
      throw badRequest(`'instances' must be a list of records, but is ${kind(value)}.`);
    case 'dataframe_records':
      if (Array.isArray(value)) return value;
      throw badRequest(`'dataframe_records' must be a list of records (pandas orient='records'), but is ${kind(value)}.`);
    case 'dataframe_split':
      return recordsFromSplit(value);
  }
}

/** A CSV body's records (MLflow's text/csv), typed by the input schema; undefined once `abandoned()`. */
export async function recordsFromCsvBody(text: string, inputSchema: object, abandoned?: () => boolean): Promise<RequestRecords | undefined> {
  const csv = await recordsFromCsv(text, inputSchema, abandoned);
  return csv && { format: 'csv', records: csv.records };
}

/** The warning header for what a request carried that was ignored: printable ASCII, bounded. */
export function ignoredWarning(ignored: string): string {
  return headerSafe(bounded(ignored, 500));
}

function hasParams(params: unknown): boolean {
  if (params === undefined || params === null) return false;
  if (typeof params === 'object' && !Array.isArray(params)) {
    for (const _ in params) return true;
    return false;
  }
  return true;
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

function wrapScalars(list: unknown[], singleField: string | null): unknown[] {
  if (singleField === null || list.length === 0) return list;
  for (let i = 0; i < list.length; i++) {
    const v = list[i];
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return list; // records already
  }
  const out = new Array<unknown>(list.length);
  for (let i = 0; i < list.length; i++) out[i] = { [singleField]: list[i] };
  return out;
}

/** Column names become record keys; '__proto__' would set the record's prototype instead of a field. */
function checkColumnNames(names: readonly string[], where: string): void {
  if (names.includes('__proto__')) throw badRequest(`${where} has a column named '__proto__', which cannot be a field name.`);
}

function recordsFromColumns(columns: Record<string, unknown>): unknown[] {
  const names = Object.keys(columns);
  checkColumnNames(names, "'inputs'");
  let length = -1;
  for (const name of names) {
    const col = columns[name];
    if (!Array.isArray(col)) throw badRequest(`'inputs' as a dictionary holds columns: ${echo(name)} must be a list of values, but is ${kind(col)}.`);
    if (length === -1) length = col.length;
    else if (col.length !== length) throw badRequest(`The length of values for each input/column name are not the same: ${echo(names[0])} has ${length}, ${echo(name)} has ${col.length}.`);
  }
  const records = new Array<unknown>(Math.max(length, 0));
  for (let i = 0; i < records.length; i++) {
    const r: Record<string, unknown> = {};
    for (const name of names) r[name] = (columns[name] as unknown[])[i];
    records[i] = r;
  }
  return records;
}

function recordsFromSplit(split: unknown): unknown[] {
  if (typeof split !== 'object' || split === null || Array.isArray(split)) {
    throw badRequest(`'dataframe_split' must be a dictionary with 'columns' and 'data' (pandas orient='split'), but is ${kind(split)}.`);
  }
  const { columns, data } = split as { columns?: unknown; data?: unknown };
  if (!Array.isArray(columns) || !columns.every((c) => typeof c === 'string')) {
    throw badRequest(`'dataframe_split.columns' must be a list of column names, but is ${kind(columns)}.`);
  }
  if (!Array.isArray(data)) throw badRequest(`'dataframe_split.data' must be a list of rows, but is ${kind(data)}.`);
  const names = columns as string[];
  checkColumnNames(names, "'dataframe_split.columns'");
  const records = new Array<unknown>(data.length);
  for (let i = 0; i < data.length; i++) {
    const row = data[i];
    if (!Array.isArray(row)) throw badRequest(`'dataframe_split.data[${i}]' must be a list of ${names.length} values, but is ${kind(row)}.`);
    if (row.length !== names.length) throw badRequest(`'dataframe_split.data[${i}]' has ${row.length} values, but there are ${names.length} columns ${echoList(names)}.`);
    const r: Record<string, unknown> = {};
    for (let j = 0; j < names.length; j++) r[names[j]] = row[j];
    records[i] = r;
  }
  return records;
}

function kind(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'a dictionary' : `a ${typeof v}`;
}

/** How many invalid records one error message lists before it just counts the rest. */
const LISTED_FAILURES = 10;

/** Characters of one record's problem in a message: the validator may quote a field name the client chose. */
const PROBLEM_CHARS = 300;

/** Validates each record; the 400 names the request key (or the CSV row), each bad record's index and the field. */
export function validateRecords(records: readonly unknown[], format: RequestFormat | 'csv', validator: Pick<Predictor, 'validate'>): ScoringError | null {
  let failures: string[] | undefined;
  let count = 0;
  for (let i = 0; i < records.length; i++) {
    const problem = validator.validate(records[i]);
    if (problem === null) continue;
    count++;
    if (count <= LISTED_FAILURES) (failures ??= []).push(`record ${i} (${recordPlace(format, i)}): ${bounded(problem, PROBLEM_CHARS)}`);
  }
  if (count === 0) return null;
  const more = count > LISTED_FAILURES ? `; and ${count - LISTED_FAILURES} more invalid records` : '';
  return invalidParameter(`Failed to enforce schema of data: ${count} of ${records.length} record${records.length === 1 ? '' : 's'} invalid: ${failures!.join('; ')}${more}`);
}

function recordPlace(format: RequestFormat | 'csv', i: number): string {
  if (format === 'csv') return `CSV row ${i + 1} after the header`;
  return format === 'dataframe_split' ? `dataframe_split.data[${i}]` : `${format}[${i}]`;
}

/** The success body, `{"predictions": [...]}`. */
export function predictionsBody(predictions: readonly unknown[]): string {
  return '{"predictions":' + JSON.stringify(predictions) + '}';
}
