// text/csv request bodies, as MLflow takes them (pandas.read_csv: a header row, then one row per record), turned
// into records typed by the artifact's input schema: CSV cells are text, the model's fields may be numbers.
import { setImmediate as turn } from 'node:timers/promises';
import { parse } from 'csv-parse';
import { bounded, echo } from './echo.ts';
import { badRequest } from './scoring-error.ts';

export interface CsvRecords {
  records: Array<Record<string, unknown>>;
}

/**
 * Characters parsed per turn of the event loop. CSV parsing is several times slower than JSON.parse (seconds for an
 * 8 MiB body on a busy machine), so it yields between slices: other requests, /ping and deadlines go on meanwhile.
 */
const SLICE = 64 * 1024;

type Cell = (text: string) => unknown;

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const NON_FINITE: Record<string, number> = { nan: NaN, inf: Infinity, '+inf': Infinity, '-inf': -Infinity, infinity: Infinity, '+infinity': Infinity, '-infinity': -Infinity };
const BOOLEAN: Record<string, boolean> = { true: true, false: false };

/** How a column's cells become values: by the JSON Schema type of the property; text stays text otherwise. */
function cellFor(property: unknown): Cell {
  const t = typeof property === 'object' && property !== null ? (property as { type?: unknown }).type : undefined;
  const types = new Set(Array.isArray(t) ? t : [t]);
  const numeric = types.has('number') || types.has('integer');
  const boolean = types.has('boolean');
  if (!numeric && !boolean) return (text) => text;
  return (text) => {
    if (numeric) {
      if (NUMBER.test(text)) return Number(text);
      const special = NON_FINITE[text.toLowerCase()];
      if (special !== undefined) return special;
    }
    if (boolean) {
      const b = BOOLEAN[text.toLowerCase()];
      if (b !== undefined) return b;
    }
    return text; // the schema then says what the field must be
  };
}

const PARSE_FAILED = 'Failed to parse input as a Pandas DataFrame. Ensure that the input is a valid CSV-formatted Pandas DataFrame produced using the `pandas.DataFrame.to_csv()` method.';

/**
 * Records from a CSV body. An empty cell leaves the field out (pandas reads it as NaN, a missing value), so the
 * schema decides whether it may be missing. A first column with an empty name is the index pandas'
 * `DataFrame.to_csv()` writes by default, and is dropped.
 */
export async function recordsFromCsv(text: string, inputSchema: object, abandoned: () => boolean = () => false): Promise<CsvRecords | undefined> {
  const rows = await parseRows(text, abandoned);
  if (rows === undefined) return undefined;
  if (rows.length === 0) throw badRequest(`${PARSE_FAILED} Error: the body is empty; the first line must name the columns.`);
  const header = rows[0];
  const from = header[0] === '' ? 1 : 0;
  const names = header.slice(from);
  const seen = new Set<string>();
  for (const name of names) {
    if (name === '__proto__') throw badRequest(`The CSV header has a column named '__proto__', which cannot be a field name.`);
    if (seen.has(name)) throw badRequest(`The CSV header names the column ${echo(name)} twice; each column must have its own name.`);
    seen.add(name);
  }
  const properties = (inputSchema as { properties?: Record<string, unknown> }).properties ?? {};
  const cells = names.map((name) => cellFor(Object.hasOwn(properties, name) ? properties[name] : undefined));
  const records = new Array<Record<string, unknown>>(rows.length - 1);
  for (let i = 1; i < rows.length; i++) {
    const row = rows[i];
    const r: Record<string, unknown> = {};
    for (let j = 0; j < names.length; j++) {
      const text = row[j + from];
      if (text !== '') r[names[j]] = cells[j](text);
    }
    records[i - 1] = r;
  }
  return { records };
}

/** The rows, parsed a slice per turn of the event loop; undefined once `abandoned()` (the request timed out). */
async function parseRows(text: string, abandoned: () => boolean): Promise<string[][] | undefined> {
  const rows: string[][] = [];
  let failure: unknown;
  const parser = parse({ bom: true, skip_empty_lines: true });
  parser.on('readable', () => {
    for (let r: string[] | null; (r = parser.read() as string[] | null) !== null; ) rows.push(r);
  });
  parser.on('error', (e) => (failure ??= e));
  const ended = new Promise<void>((resolve) => parser.on('end', resolve).on('error', () => resolve()));
  for (let at = 0; at < text.length && failure === undefined; at += SLICE) {
    parser.write(text.slice(at, at + SLICE));
    await turn();
    if (abandoned()) {
      parser.destroy();
      return undefined;
    }
  }
  if (failure === undefined) parser.end();
  await ended;
  if (failure !== undefined) throw badRequest(`${PARSE_FAILED} Error: ${bounded(failure instanceof Error ? failure.message : String(failure), 300)}`);
  return rows;
}
