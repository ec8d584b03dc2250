// csv: records as objects, one per row, parsed and written as a stream (csv-parse, csv-stringify). Cells are text;
// with a record schema, ajv converts them to the schema's types ("3" → 3, "true" → true) while it checks them.
import { createReadStream } from 'node:fs';
import type { CsvError } from 'csv-parse';
import type { DatasetIR } from '../../ir/types.ts';
import { writeFileAtomic } from '../atomic.ts';
import { FileDataset } from './file.ts';
import { booleanOption, charOption, checkOptions } from './options.ts';
import { recordCheck, recordError, type RecordCheck } from './schema.ts';
import type { DatasetEnv } from './types.ts';

export const csvOptions = { delimiter: charOption, header: booleanOption };

/** Rows are stringified this many at a time, so that a save holds one batch of text, not the whole file. */
const WRITE_BATCH = 2000;

const castForCsv = {
  boolean: (v: boolean) => (v ? 'true' : 'false'),
  date: (v: Date) => v.toISOString(),
  object: (v: object) => JSON.stringify(v),
};

export class CsvDataset extends FileDataset<Array<Record<string, unknown>>> {
  private readonly delimiter: string;
  private readonly header: boolean;
  private readonly check: RecordCheck | null;
  /** Column names for files without a header row: the schema's properties in order, else 0, 1, 2... */
  private readonly schemaColumns: string[] | null;

  constructor(entry: DatasetIR, env: DatasetEnv) {
    checkOptions(entry, csvOptions);
    super(entry, env);
    this.delimiter = (entry.options.delimiter as string | undefined) ?? ',';
    this.header = (entry.options.header as boolean | undefined) ?? true;
    this.check = entry.schemaJson ? recordCheck(entry, entry.schemaJson, true) : null;
    const props = entry.schemaJson?.properties;
    this.schemaColumns = props && typeof props === 'object' ? Object.keys(props) : null;
  }

  protected async read(file: string): Promise<Array<Record<string, unknown>>> {
    const where = this.where(file);
    // Imported when a CSV is first read or written: every run loads this module, few read CSV.
    const { parse } = await import('csv-parse');
    const parser = parse({ delimiter: this.delimiter, columns: this.header, bom: true, skip_empty_lines: true, info: true });
    const source = createReadStream(file);
    source.on('error', (e) => parser.destroy(e));
    source.pipe(parser);
    const out: Array<Record<string, unknown>> = [];
    let row = 0;
    try {
      for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, unknown> | string[]; info: { lines: number } }>) {
        row++;
        const obj = Array.isArray(record) ? this.namedCells(record) : record;
        if (this.check) {
          const problem = this.check(obj);
          if (problem) throw recordError(this.entry, `${where} line ${info.lines}`, `${row} (data row)`, problem);
        }
        out.push(obj);
      }
    } catch (e) {
      const code = (e as CsvError).code;
      if (typeof code === 'string' && code.startsWith('CSV_')) {
        const line = (e as CsvError).lines;
        throw this.unreadable(typeof line === 'number' ? `${where} line ${line}` : where, (e as Error).message, `Fix the file, or the delimiter (now '${this.delimiter}') and header (now ${this.header}) options of the catalog entry.`);
      }
      throw e;
    } finally {
      source.destroy();
    }
    return out;
  }

  private namedCells(cells: string[]): Record<string, unknown> {
    const names = this.schemaColumns;
    const obj: Record<string, unknown> = {};
    for (let i = 0; i < cells.length; i++) obj[names && i < names.length ? names[i] : String(i)] = cells[i];
    return obj;
  }

  protected async write(file: string, value: Array<Record<string, unknown>>): Promise<void> {
    if (!Array.isArray(value)) throw this.wrongValue(value, 'an array of records (objects)');
    // Columns: every key of every record in order of first appearance, so that no field is dropped.
    const seen = new Set<string>(this.header ? [] : (this.schemaColumns ?? []));
    for (let i = 0; i < value.length; i++) {
      const r = value[i];
      if (r === null || typeof r !== 'object' || Array.isArray(r)) throw this.wrongValue(r, `records that are objects (record ${i + 1})`);
      for (const k of Object.keys(r)) seen.add(k);
    }
    const columns = [...seen];
    const { stringify } = await import('csv-stringify/sync');
    const header = this.header;
    const delimiter = this.delimiter;
    async function* chunks(): AsyncGenerator<string> {
      if (header && columns.length > 0) yield stringify([columns], { delimiter });
      for (let i = 0; i < value.length; i += WRITE_BATCH) {
        yield stringify(value.slice(i, i + WRITE_BATCH), { delimiter, columns, header: false, cast: castForCsv });
      }
    }
    await writeFileAtomic(file, chunks());
  }
}

export function createCsvDataset(entry: DatasetIR, env: DatasetEnv): CsvDataset {
  return new CsvDataset(entry, env);
}
