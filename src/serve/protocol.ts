// MLflow's scoring protocol (mlflow/pyfunc/scoring_server): request bodies turned into records, and the error bodies
// and messages MLflow clients expect.
import { didYouMean } from '../diagnostics/index.ts';
import { describeJsonSyntaxError, findJsonSyntaxError } from './json-syntax.ts';
import type { Predictor } from './predictor.ts';

/** The request keys MLflow 2.x accepts, in the order its messages list them. */
export const REQUEST_FORMATS = ['dataframe_split', 'dataframe_records', 'instances', 'inputs'] as const;
export type RequestFormat = (typeof REQUEST_FORMATS)[number];

export const CONTENT_TYPE_JSON = 'application/json';

/** A request the server answers with an error status; `body` is sent as is. */
export class ScoringError extends Error {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  /** Extra response headers (Allow on a 405). */
  readonly headers: Readonly<Record<string, string>> | undefined;
  constructor(status: number, errorCode: string | null, message: string, headers?: Record<string, string>) {
    super(message);
    this.headers = headers;
    this.name = 'ScoringError';
    this.status = status;
    // MLflow answers content-type problems (415) in plain text and everything else as an MlflowException in JSON.
    this.contentType = errorCode === null ? 'text/plain; charset=utf-8' : 'application/json';
    this.body = errorCode === null ? message : JSON.stringify({ error_code: errorCode, message });
  }
}

/** 400 with MLflow's error code for requests it cannot parse (MlflowInvalidInputException uses BAD_REQUEST). */
export function badRequest(message: string): ScoringError {
  return new ScoringError(400, 'BAD_REQUEST', `Invalid input. ${message}`);
}

/** 400 with the code MLflow uses for schema enforcement failures. */
export function invalidParameter(message: string): ScoringError {
  return new ScoringError(400, 'INVALID_PARAMETER_VALUE', message);
}

const REQUIRED_INPUT_FORMAT = `The input must be a JSON dictionary with exactly one of the input fields {${REQUEST_FORMATS.map((f) => `'${f}'`).join(', ')}}`;

/**
 * Checks the Content-Type the way MLflow does: JSON only (kiln does not take CSV), UTF-8 only, no other parameters.
 * Returns null when acceptable, else the 415 to answer.
 */
export function checkContentType(header: string | undefined): ScoringError | null {
  if (header === CONTENT_TYPE_JSON) return null; // the common case, without splitting
  const parts = (header ?? '').split(';').map((p) => p.trim());
  const mime = (parts[0] ?? '').toLowerCase();
  if (mime !== CONTENT_TYPE_JSON) {
    return new ScoringError(415, null, `This predictor only supports the following content types: Types: ['${CONTENT_TYPE_JSON}']. Got '${header ?? ''}'.`);
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
  if (unexpected.length > 0) return new ScoringError(415, null, `Unrecognized content type parameters: ${unexpected.join(', ')}.`);
  return null;
}

/** Parses a request body; a syntax error says where it is instead of echoing the body back. */
export function parseJsonBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const at = findJsonSyntaxError(text);
    const where = at ? describeJsonSyntaxError(text, at) : (e as Error).message.slice(0, 200);
    // The issue's contract (and MLflow's schema errors) use INVALID_PARAMETER_VALUE; MLflow itself says BAD_REQUEST here.
    throw invalidParameter(`Invalid input. Ensure that input is a valid JSON formatted string. Error: ${where}`);
  }
}

/** A request's records and which key carried them (the key is named in schema error messages). */
export interface RequestRecords {
  format: RequestFormat;
  records: unknown[];
}

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
  if (formats !== 1 || other !== undefined) {
    const keys = Object.keys(obj);
    const shown = JSON.stringify(keys.slice(0, 20)) + (keys.length > 20 ? ` (and ${keys.length - 20} more)` : '');
    const extra = formats === 1 ? ` Besides the input field only 'params' is allowed; unknown: ${JSON.stringify(other)}.` : '';
    const hints = (other ?? []).slice(0, 20).map((k) => {
      const s = didYouMean(k, REQUEST_FORMATS);
      return s ? ` For '${k}',${s}` : '';
    });
    throw badRequest(`${REQUIRED_INPUT_FORMAT}. Received dictionary with input fields: ${shown}.${extra}${hints.join('')}`);
  }
  checkParams(obj.params);
  const value = obj[format!];
  switch (format!) {
    case 'inputs':
      if (Array.isArray(value)) return { format: 'inputs', records: wrapScalars(value, singleField) };
      if (typeof value === 'object' && value !== null) return { format: 'inputs', records: recordsFromColumns(value as Record<string, unknown>) };
      throw badRequest(`'inputs' must be a list of records or a dictionary of columns (name to list of values), but is ${kind(value)}.`);
    case 'instances':
      if (Array.isArray(value)) return { format: 'instances', records: wrapScalars(value, singleField) };
      throw badRequest(`'instances' must be a list of records, but is ${kind(value)}.`);
    case 'dataframe_records':
      if (Array.isArray(value)) return { format: 'dataframe_records', records: value };
      throw badRequest(`'dataframe_records' must be a list of records (pandas orient='records'), but is ${kind(value)}.`);
    case 'dataframe_split':
      return { format: 'dataframe_split', records: recordsFromSplit(value) };
  }
}

function checkParams(params: unknown): void {
  if (params === undefined || params === null) return;
  if (typeof params === 'object' && !Array.isArray(params) && Object.keys(params).length === 0) return;
  throw badRequest(`This model takes no inference parameters, but the request has 'params': ${JSON.stringify(params).slice(0, 200)}. Remove 'params'.`);
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
    if (!Array.isArray(col)) throw badRequest(`'inputs' as a dictionary holds columns: '${name}' must be a list of values, but is ${kind(col)}.`);
    if (length === -1) length = col.length;
    else if (col.length !== length) throw badRequest(`The length of values for each input/column name are not the same: '${names[0]}' has ${length}, '${name}' has ${col.length}.`);
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
    if (row.length !== names.length) throw badRequest(`'dataframe_split.data[${i}]' has ${row.length} values, but there are ${names.length} columns ${JSON.stringify(names)}.`);
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

/** Validates each record; the 400 names the request key, each bad record's index and the field. */
export function validateRecords(records: readonly unknown[], format: RequestFormat, validator: Pick<Predictor, 'validate'>): ScoringError | null {
  let failures: string[] | undefined;
  let count = 0;
  for (let i = 0; i < records.length; i++) {
    const problem = validator.validate(records[i]);
    if (problem === null) continue;
    count++;
    if (count <= LISTED_FAILURES) (failures ??= []).push(`record ${i} (${format === 'dataframe_split' ? `dataframe_split.data[${i}]` : `${format}[${i}]`}): ${problem}`);
  }
  if (count === 0) return null;
  const more = count > LISTED_FAILURES ? `; and ${count - LISTED_FAILURES} more invalid records` : '';
  return invalidParameter(`Failed to enforce schema of data: ${count} of ${records.length} record${records.length === 1 ? '' : 's'} invalid: ${failures!.join('; ')}${more}`);
}

/** The success body, `{"predictions": [...]}`. */
export function predictionsBody(predictions: readonly unknown[]): string {
  return '{"predictions":' + JSON.stringify(predictions) + '}';
}
