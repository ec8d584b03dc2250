// Batch prediction over JSON Lines files: streamed in batches (memory does not grow with the file), output line i
// answers input line i, and a file output appears only complete (written to a temporary file, then renamed).
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { diag, isKilnError, KilnError } from '../diagnostics/index.ts';
import { PredictorContractError } from './batcher.ts';
import { describeJsonSyntaxError, findJsonSyntaxError } from './json-syntax.ts';
import { predictFileOptions, type PredictFileOptions } from './options.ts';
import type { Predictor } from './predictor.ts';

export interface PredictFileProgress {
  /** Input bytes whose predictions have been written. */
  doneBytes: number;
  /** Size of the input file. */
  totalBytes: number;
  records: number;
}

export interface PredictFileResult {
  records: number;
  bytes: number;
}

export type PredictFileInput = Partial<PredictFileOptions> & { onProgress?: (progress: PredictFileProgress) => void };

/**
 * Predicts every line of `inputPath` (JSON Lines, one record per line) into `output`: a file path, written atomically,
 * or a stream such as process.stdout, written as it goes. A bad line is a KilnError naming the line and the field.
 */
export async function predictFile(predictor: Predictor, inputPath: string, output: string | NodeJS.WritableStream, options: PredictFileInput = {}): Promise<PredictFileResult> {
  const { batchSize } = predictFileOptions(options);
  const onProgress = options.onProgress;
  const totalBytes = await inputSize(inputPath);
  const sink = typeof output === 'string' ? await FileSink.open(output) : new StreamSink(output);
  let ok = false;
  try {
    const reader = new BatchReader(predictor, inputPath, batchSize);
    let doneBytes = 0;
    let records = 0;
    for await (const batch of reader.batches()) {
      const outputs = await predictBatch(predictor, inputPath, batch);
      let text = '';
      for (let i = 0; i < outputs.length; i++) {
        const line = JSON.stringify(outputs[i]);
        if (line === undefined) throw new PredictorContractError(`predict returned ${String(outputs[i])} for line ${batch.lines[i]}, which JSON cannot represent`);
        text += line + '\n';
      }
      await sink.write(text);
      records += outputs.length;
      doneBytes = batch.endByte;
      onProgress?.({ doneBytes, totalBytes, records });
    }
    await sink.commit();
    ok = true;
    if (doneBytes !== totalBytes) onProgress?.({ doneBytes: totalBytes, totalBytes, records });
    return { records, bytes: totalBytes };
  } finally {
    if (!ok) await sink.abort();
  }
}

interface Batch {
  records: unknown[];
  /** 1-based input line of each record. */
  lines: number[];
  /** Input bytes up to and including the last line of this batch. */
  endByte: number;
}

async function inputSize(inputPath: string): Promise<number> {
  let stat: fs.Stats;
  try {
    stat = await fsp.stat(inputPath);
  } catch (e) {
    throw new KilnError(diag('KILN6105', { what: 'input file', path: inputPath, reason: reasonOf(e) }));
  }
  if (!stat.isFile()) throw new KilnError(diag('KILN6105', { what: 'input file', path: inputPath, reason: 'it is not a file' }));
  return stat.size;
}

/** Splits the input into lines without holding more than one batch (and one partial line) in memory. */
class BatchReader {
  constructor(
    private readonly predictor: Predictor,
    private readonly file: string,
    private readonly batchSize: number,
  ) {}

  async *batches(): AsyncGenerator<Batch> {
    let batch: Batch = { records: [], lines: [], endByte: 0 };
    let lineNo = 0;
    let offset = 0; // bytes of the input consumed so far
    let restParts: Buffer[] = [];
    let restLength = 0;
    let firstBlank = 0; // first empty line not yet followed by a record (allowed only at the end of the file)
    const take = (raw: Buffer): void => {
      lineNo++;
      offset += raw.length + 1;
      let text = raw.toString('utf8');
      if (lineNo === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1); // byte order mark
      if (text.endsWith('\r')) text = text.slice(0, -1);
      if (text.trim() === '') {
        if (firstBlank === 0) firstBlank = lineNo;
        return;
      }
      if (firstBlank !== 0) throw new KilnError(diag('KILN6103', { file: this.file, line: firstBlank }));
      batch.records.push(this.parse(text, lineNo));
      batch.lines.push(lineNo);
      batch.endByte = offset;
    };
    const stream = fs.createReadStream(this.file, { highWaterMark: 256 * 1024 });
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        let start = 0;
        for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
          if (restLength > 0) {
            restParts.push(chunk.subarray(start, nl));
            take(Buffer.concat(restParts, restLength + nl - start));
            restParts = [];
            restLength = 0;
          } else take(chunk.subarray(start, nl));
          start = nl + 1;
          if (batch.records.length >= this.batchSize) {
            yield batch;
            batch = { records: [], lines: [], endByte: batch.endByte };
          }
        }
        if (start < chunk.length) {
          restParts.push(chunk.subarray(start));
          restLength += chunk.length - start;
        }
      }
    } catch (e) {
      // Only a failing read is about the file; anything else (a diagnostic for a line, a bug) goes up as it is.
      if (typeof (e as NodeJS.ErrnoException).syscall === 'string') throw new KilnError(diag('KILN6105', { what: 'input file', path: this.file, reason: reasonOf(e) }));
      throw e;
    } finally {
      stream.destroy();
    }
    if (restLength > 0) {
      take(Buffer.concat(restParts, restLength));
      offset--; // the last line had no newline
      if (batch.records.length > 0) batch.endByte = offset;
    }
    if (batch.records.length > 0) yield batch;
  }

  private parse(text: string, line: number): unknown {
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch (e) {
      const at = findJsonSyntaxError(text);
      throw new KilnError(
        diag('KILN6102', { file: this.file, line, column: at?.column ?? 1, detail: at ? describeJsonSyntaxError(text, at) : (e as Error).message.slice(0, 200) }),
      );
    }
    const problem = this.predictor.validate(record);
    if (problem !== null) throw new KilnError(diag('KILN6101', { file: this.file, line, problem }));
    return record;
  }
}

/** Predicts a batch; when it fails, predicts its records one by one to name the line the model fails on. */
async function predictBatch(predictor: Predictor, file: string, batch: Batch): Promise<unknown[]> {
  try {
    return checked(await predictor.predict(batch.records), batch.records.length);
  } catch (e) {
    if (e instanceof PredictorContractError) throw e;
    if (batch.records.length === 1) throw modelFailure(file, batch.lines[0], e);
  }
  const outputs: unknown[] = [];
  for (let i = 0; i < batch.records.length; i++) {
    try {
      outputs.push(checked(await predictor.predict([batch.records[i]]), 1)[0]);
    } catch (e) {
      if (e instanceof PredictorContractError) throw e;
      throw modelFailure(file, batch.lines[i], e);
    }
  }
  return outputs;
}

function checked(outputs: unknown[], expected: number): unknown[] {
  if (!Array.isArray(outputs) || outputs.length !== expected) {
    throw new PredictorContractError(`predict returned ${Array.isArray(outputs) ? `${outputs.length} outputs` : typeof outputs} for ${expected} records`);
  }
  return outputs;
}

function modelFailure(file: string, line: number, e: unknown): KilnError {
  const detail = isKilnError(e) ? e.diagnostics.map((d) => `${d.code}: ${d.message}`).join('; ') : e instanceof Error ? e.message : String(e);
  return new KilnError(diag('KILN6104', { file, line, detail }));
}

function reasonOf(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'ENOENT') return 'no such file or folder';
  if (err?.code === 'EACCES' || err?.code === 'EPERM') return 'permission denied';
  if (err?.code === 'EISDIR') return 'it is a folder';
  return err?.code ?? (err instanceof Error ? err.message : String(e));
}

interface Sink {
  write(text: string): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/** Writes next to the destination and renames over it at the end, so a failure never leaves a partial file. */
class FileSink implements Sink {
  private constructor(
    private readonly destination: string,
    private readonly temporary: string,
    private readonly handle: fsp.FileHandle,
  ) {}

  static async open(destination: string): Promise<FileSink> {
    const temporary = path.join(path.dirname(destination), `.${path.basename(destination)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      const st = await fsp.stat(destination).catch(() => undefined);
      if (st?.isDirectory()) throw Object.assign(new Error('it is a folder'), { code: 'EISDIR' });
      return new FileSink(destination, temporary, await fsp.open(temporary, 'wx'));
    } catch (e) {
      throw new KilnError(diag('KILN6106', { path: destination, reason: reasonOf(e) }));
    }
  }

  async write(text: string): Promise<void> {
    try {
      await this.handle.write(text);
    } catch (e) {
      throw new KilnError(diag('KILN6106', { path: this.destination, reason: reasonOf(e) }));
    }
  }

  async commit(): Promise<void> {
    try {
      await this.handle.sync();
      await this.handle.close();
      await fsp.rename(this.temporary, this.destination);
    } catch (e) {
      throw new KilnError(diag('KILN6106', { path: this.destination, reason: reasonOf(e) }));
    }
  }

  async abort(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await fsp.rm(this.temporary, { force: true });
  }
}

/** A stream (stdout) cannot be written atomically: lines go out as they are predicted, with backpressure. */
class StreamSink implements Sink {
  constructor(private readonly stream: NodeJS.WritableStream) {}

  write(text: string): Promise<void> {
    if (this.stream.write(text)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onDrain = () => {
        this.stream.removeListener('error', onError);
        resolve();
      };
      const onError = (e: unknown) => {
        this.stream.removeListener('drain', onDrain);
        reject(e);
      };
      this.stream.once('drain', onDrain);
      this.stream.once('error', onError);
    });
  }

  async commit(): Promise<void> {}

  async abort(): Promise<void> {}
}
