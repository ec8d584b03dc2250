// jsonl: one JSON record per line, streamed both ways so that memory holds one chunk of the file at a time
// (the loaded value is the array of records; `records()` iterates without keeping them).
import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { DatasetIR } from '../../ir/types.ts';
import { writeFileAtomic } from '../atomic.ts';
import { FileDataset } from './file.ts';
import { checkOptions } from './options.ts';
import { recordCheck, recordError, type RecordCheck } from './schema.ts';
import type { DatasetEnv } from './types.ts';

const READ_CHUNK = 1 << 20;
const WRITE_CHUNK = 1 << 20;

/** A run of consecutive lines of a file; `first` is the 1-based number of `lines[0]`. */
interface LineBatch {
  first: number;
  lines: string[];
}

/** The lines of a UTF-8 file, a chunk at a time, without the line ends (\n or \r\n) and without a leading BOM. */
export async function* readLineBatches(file: string): AsyncGenerator<LineBatch> {
  const decoder = new StringDecoder('utf8');
  let pending: string[] = [];
  let next = 1;
  let firstChunk = true;
  const stream = createReadStream(file, { highWaterMark: READ_CHUNK });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let text = decoder.write(chunk);
      if (firstChunk && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      firstChunk = false;
      const lines: string[] = [];
      let start = 0;
      let nl: number;
      while ((nl = text.indexOf('\n', start)) !== -1) {
        let line = text.slice(start, nl);
        if (pending.length > 0) {
          pending.push(line);
          line = pending.join('');
          pending = [];
        }
        lines.push(line.endsWith('\r') ? line.slice(0, -1) : line);
        start = nl + 1;
      }
      if (start < text.length) pending.push(text.slice(start));
      if (lines.length > 0) {
        yield { first: next, lines };
        next += lines.length;
      }
    }
    const tail = pending.join('') + decoder.end();
    if (tail.length > 0) yield { first: next, lines: [tail.endsWith('\r') ? tail.slice(0, -1) : tail] };
  } finally {
    stream.destroy();
  }
}

function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}

export class JsonlDataset extends FileDataset<unknown[]> {
  private readonly check: RecordCheck | null;

  constructor(entry: DatasetIR, env: DatasetEnv) {
    checkOptions(entry, {});
    super(entry, env);
    this.check = entry.schemaJson ? recordCheck(entry, entry.schemaJson) : null;
  }

  /** Parsed and checked records of `file`, a batch at a time; blank lines are skipped but counted. */
  private async *recordBatches(file: string): AsyncGenerator<unknown[]> {
    const where = this.where(file);
    let record = 0;
    for await (const batch of readLineBatches(file)) {
      const out: unknown[] = [];
      for (let i = 0; i < batch.lines.length; i++) {
        const line = batch.lines[i];
        if (isBlank(line)) continue;
        record++;
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch (e) {
          throw this.unreadable(`${where} line ${batch.first + i}`, `${(e as Error).message}`, 'Each line must hold one complete JSON value; fix or remove that line.');
        }
        if (this.check) {
          const problem = this.check(value);
          if (problem) throw recordError(this.entry, `${where} line ${batch.first + i}`, record, problem);
        }
        out.push(value);
      }
      if (out.length > 0) yield out;
    }
  }

  protected async read(file: string): Promise<unknown[]> {
    const all: unknown[] = [];
    for await (const batch of this.recordBatches(file)) for (const r of batch) all.push(r);
    return all;
  }

  /** The saved records one by one, checked against the schema, without holding the file or the array in memory. */
  async *records(): AsyncGenerator<unknown> {
    const file = await this.location.requireLoadPath();
    for await (const batch of this.recordBatches(file)) yield* batch;
  }

  protected async write(file: string, value: unknown[]): Promise<void> {
    if (!Array.isArray(value)) throw this.wrongValue(value, 'an array of records');
    await this.writeRecords(file, value);
  }

  /** Saves records produced one at a time (an array, a generator, a stream), never holding them all. */
  async saveRecords(records: Iterable<unknown> | AsyncIterable<unknown>): Promise<void> {
    await this.saveWith((target) => this.writeRecords(target, records));
  }

  private async writeRecords(file: string, records: Iterable<unknown> | AsyncIterable<unknown>): Promise<void> {
    if (records === null || typeof records !== 'object' || !(Symbol.iterator in records || Symbol.asyncIterator in records)) {
      throw this.wrongValue(records, 'an array or iterable of records');
    }
    const self = this;
    async function* chunks(): AsyncGenerator<string> {
      let buf = '';
      let n = 0;
      for await (const r of records as AsyncIterable<unknown>) {
        n++;
        let line: string | undefined;
        try {
          line = JSON.stringify(r);
        } catch (e) {
          throw self.wrongValue(r, `records JSON can hold (record ${n}: ${(e as Error).message})`);
        }
        if (line === undefined) throw self.wrongValue(r, `records JSON can hold (record ${n})`);
        buf += line + '\n';
        if (buf.length >= WRITE_CHUNK) {
          yield buf;
          buf = '';
        }
      }
      if (buf.length > 0) yield buf;
    }
    await writeFileAtomic(file, chunks());
  }
}

export function createJsonlDataset(entry: DatasetIR, env: DatasetEnv): JsonlDataset {
  return new JsonlDataset(entry, env);
}
