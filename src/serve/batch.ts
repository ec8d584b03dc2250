// Batch prediction over JSON Lines files: streamed in batches (memory does not grow with the file), output line i
// answers input line i, and a file output appears only complete (written to a temporary file, then renamed).
// A bad line either fails the whole file, after every bad line up to a limit has been found, or is skipped: its output
// line is `null` (so alignment holds) and its diagnostic goes to an errors file.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { diag, isKilnError, KilnError, type Diagnostic } from '../diagnostics/index.ts';
import { PredictorContractError } from './batcher.ts';
import { describeJsonSyntaxError, findJsonSyntaxError } from './json-syntax.ts';
import { predictFileOptions, type PredictFileOptions } from './options.ts';
import { tempPathBeside } from '../runtime/atomic.ts';
import type { Predictor } from './predictor.ts';

export interface PredictFileProgress {
  /** Input bytes whose predictions have been written. */
  doneBytes: number;
  /** Size of the input file. */
  totalBytes: number;
  records: number;
}

export interface PredictFileResult {
  /** Records predicted. */
  records: number;
  bytes: number;
  /** Bad lines skipped (always 0 with onError 'fail'). */
  skipped: number;
}

export type PredictFileInput = Partial<PredictFileOptions> & {
  onProgress?: (progress: PredictFileProgress) => void;
  /** With onError 'skip': where each bad line's number and diagnostic go, one JSON object per line (written atomically). */
  errorsPath?: string;
};

/** A line that cannot be predicted, with why. */
interface BadLine {
  line: number;
  diagnostic: Diagnostic;
}

/** How many bad lines a failing file lists; a file with thousands of them is usually one mistake repeated. */
export const REPORTED_BAD_LINES = 20;

/**
 * Predicts every line of `inputPath` (JSON Lines, one record per line) into `output`: a file path, written atomically,
 * or a stream such as process.stdout, written as it goes. With onError 'fail' (the default) a bad line fails the whole
 * file: a KilnError naming the first bad line, then the others (up to REPORTED_BAD_LINES); once a line is bad nothing
 * more is predicted (the output would be thrown away), the other lines are only read and checked against the schema.
 * With onError 'skip' a bad line gets `null` as its output line and its diagnostic in `errorsPath`.
 */
export async function predictFile(predictor: Predictor, inputPath: string, output: string | NodeJS.WritableStream, options: PredictFileInput = {}): Promise<PredictFileResult> {
  const { batchSize, onError } = predictFileOptions(options);
  const onProgress = options.onProgress;
  const totalBytes = await inputSize(inputPath);
  if (onError === 'skip' && options.errorsPath === undefined) throw new KilnError(diag('KILN6107', { what: 'predict', option: 'errorsPath', expected: "a file path when onError is 'skip'", actual: 'undefined' }));
  const sink = typeof output === 'string' ? await FileSink.open(output) : new StreamSink(output);
  let errors: FileSink | null = null;
  let ok = false;
  try {
    if (onError === 'skip') errors = await FileSink.open(options.errorsPath!);
    const reader = new BatchReader(predictor, inputPath, batchSize);
    const bad: BadLine[] = [];
    let badCount = 0;
    let doneBytes = 0;
    let records = 0;
    for await (const batch of reader.batches()) {
      if (onError === 'fail' && badCount > 0) {
        // Already failing: only count and collect what the reader finds.
        for (const slot of batch.slots) {
          if (!slot.bad) continue;
          badCount++;
          if (bad.length < REPORTED_BAD_LINES) bad.push(slot.bad);
        }
        continue;
      }
      const outputs = await predictBatch(predictor, inputPath, batch);
      let text = '';
      let errorText = '';
      for (let i = 0; i < batch.slots.length; i++) {
        const failure = batch.slots[i].bad ?? outputs[i].bad;
        if (failure) {
          badCount++;
          if (onError === 'fail') {
            if (bad.length < REPORTED_BAD_LINES) bad.push(failure);
            continue;
          }
          errorText += JSON.stringify({ line: failure.line, code: failure.diagnostic.code, message: failure.diagnostic.message, hint: failure.diagnostic.hint ?? null }) + '\n';
          text += 'null\n';
          continue;
        }
        const line = JSON.stringify(outputs[i].value);
        if (line === undefined) throw new PredictorContractError(`predict returned ${String(outputs[i].value)} for line ${batch.slots[i].line}, which JSON cannot represent`);
        text += line + '\n';
        records++;
      }
      if (onError === 'fail' && badCount > 0) continue;
      await sink.write(text);
      if (errorText) await errors!.write(errorText);
      doneBytes = batch.endByte;
      onProgress?.({ doneBytes, totalBytes, records });
    }
    if (onError === 'fail' && badCount > 0) throw badLinesError(inputPath, bad, badCount);
    await errors?.commit();
    await sink.commit();
    ok = true;
    if (doneBytes !== totalBytes) onProgress?.({ doneBytes: totalBytes, totalBytes, records });
    return { records, bytes: totalBytes, skipped: onError === 'skip' ? badCount : 0 };
  } finally {
    if (!ok) {
      await sink.abort();
      await errors?.abort();
    }
  }
}

/** The first bad line's own diagnostic, then one that lists the others, in line order (diagnostics are sorted by code). */
function badLinesError(file: string, bad: BadLine[], count: number): KilnError {
  const [first, ...rest] = bad;
  if (count === 1) return new KilnError(first.diagnostic);
  const listed = rest.map((b) => `${b.diagnostic.code}: ${b.diagnostic.message.replace(` of ${file}`, '')}`);
  const unlisted = count - bad.length;
  if (unlisted > 0) listed.push(`... and ${unlisted} more`);
  return new KilnError([first.diagnostic, diag('KILN6130', { count: count - 1, file }, undefined, listed.join('\n'))]);
}

/** One input line of a batch: a record to predict, or a line that cannot be. */
interface Slot {
  /** 1-based input line. */
  line: number;
  record?: unknown;
  bad?: BadLine;
}

interface Batch {
  slots: Slot[];
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
    let batch: Batch = { slots: [], endByte: 0 };
    let lineNo = 0;
    let offset = 0; // bytes of the input consumed so far
    let restParts: Buffer[] = [];
    let restLength = 0;
    let blanks: number[] = []; // empty lines not yet followed by a record (allowed only at the end of the file)
    const take = (raw: Buffer): void => {
      lineNo++;
      offset += raw.length + 1;
      let text = raw.toString('utf8');
      if (lineNo === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1); // byte order mark
      if (text.endsWith('\r')) text = text.slice(0, -1);
      if (text.trim() === '') {
        blanks.push(lineNo);
        return;
      }
      for (const line of blanks) batch.slots.push({ line, bad: { line, diagnostic: diag('KILN6103', { file: this.file, line }) } });
      blanks = [];
      batch.slots.push(this.parse(text, lineNo));
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
          if (batch.slots.length >= this.batchSize) {
            yield batch;
            batch = { slots: [], endByte: batch.endByte };
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
      if (batch.slots.length > 0) batch.endByte = offset;
    }
    if (batch.slots.length > 0) yield batch;
  }

  private parse(text: string, line: number): Slot {
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch (e) {
      const at = findJsonSyntaxError(text);
      const d = diag('KILN6102', { file: this.file, line, column: at?.column ?? 1, detail: at ? describeJsonSyntaxError(text, at) : (e as Error).message.slice(0, 200) });
      return { line, bad: { line, diagnostic: d } };
    }
    const problem = this.predictor.validate(record);
    if (problem !== null) return { line, bad: { line, diagnostic: diag('KILN6101', { file: this.file, line, problem }) } };
    return { line, record };
  }
}

type Prediction = { value: unknown; bad?: undefined } | { value?: undefined; bad: BadLine };

/**
 * Predicts the good records of a batch, one prediction per slot (bad slots get theirs unchanged). When the batch
 * fails, its records are predicted one by one to name each line the model fails on.
 */
async function predictBatch(predictor: Predictor, file: string, batch: Batch): Promise<Prediction[]> {
  const good = batch.slots.filter((s) => !s.bad);
  const out: Prediction[] = batch.slots.map((s) => (s.bad ? { bad: s.bad } : { value: undefined }));
  const place = (values: Prediction[]) => {
    let j = 0;
    for (let i = 0; i < out.length; i++) if (!batch.slots[i].bad) out[i] = values[j++];
  };
  if (good.length === 0) return out;
  try {
    place(checked(await predictor.predict(good.map((s) => s.record)), good.length).map((value) => ({ value })));
    return out;
  } catch (e) {
    if (e instanceof PredictorContractError) throw e;
    if (good.length === 1) {
      place([{ bad: modelFailure(file, good[0].line, e) }]);
      return out;
    }
  }
  const one: Prediction[] = [];
  for (const s of good) {
    try {
      one.push({ value: checked(await predictor.predict([s.record]), 1)[0] });
    } catch (e) {
      if (e instanceof PredictorContractError) throw e;
      one.push({ bad: modelFailure(file, s.line, e) });
    }
  }
  place(one);
  return out;
}

function checked(outputs: unknown[], expected: number): unknown[] {
  if (!Array.isArray(outputs) || outputs.length !== expected) {
    throw new PredictorContractError(`predict returned ${Array.isArray(outputs) ? `${outputs.length} outputs` : typeof outputs} for ${expected} records`);
  }
  return outputs;
}

function modelFailure(file: string, line: number, e: unknown): BadLine {
  const detail = isKilnError(e) ? e.diagnostics.map((d) => `${d.code}: ${d.message}`).join('; ') : e instanceof Error ? e.message : String(e);
  return { line, diagnostic: diag('KILN6104', { file, line, detail }) };
}

function reasonOf(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'ENOENT') return 'no such file or folder';
  if (err?.code === 'EACCES' || err?.code === 'EPERM') return 'permission denied';
  if (err?.code === 'EISDIR') return 'it is a folder';
  if (err?.code === 'ENOSPC' || err?.code === 'EDQUOT') return 'no space left on its disk';
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
    const temporary = tempPathBeside(destination, 'tmp');
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
