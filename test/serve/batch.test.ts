// Batch prediction over JSON Lines: alignment, streaming in batches, progress, and failures that name the line and
// leave no partial output behind.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isKilnError } from '../../src/diagnostics/index.ts';
import { predictFile, REPORTED_BAD_LINES, type PredictFileProgress } from '../../src/serve/batch.ts';
import { formatProgress } from '../../src/serve/progress.ts';
import { textLengthPredictor } from './support.ts';
import { defaultErrorsPath } from '../../src/cli/predict.ts';
import { runCli } from '../helpers/cli.ts';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-batch-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const write = (name: string, text: string) => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
};
const lines = (texts: string[]) => texts.map((t) => JSON.stringify({ text: t }) + '\n').join('');

async function diagnosticOf(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    if (isKilnError(e)) return e.diagnostics[0];
    throw e;
  }
  throw new Error('expected a KilnError');
}

describe('predictFile', () => {
  it('writes output line i for input line i, in batches, with progress by bytes', async () => {
    const texts = Array.from({ length: 1000 }, (_, i) => 'é'.repeat(i % 37) + String(i));
    const input = write('in.jsonl', lines(texts));
    const output = path.join(dir, 'out.jsonl');
    const predictor = textLengthPredictor();
    const progress: PredictFileProgress[] = [];
    const result = await predictFile(predictor, input, output, { batchSize: 64, onProgress: (p) => progress.push({ ...p }) });
    const out = fs.readFileSync(output, 'utf8').split('\n');
    expect(out.pop()).toBe('');
    expect(out.map((l) => JSON.parse(l).length)).toEqual(texts.map((t) => t.length));
    expect(result).toEqual({ records: 1000, bytes: fs.statSync(input).size, skipped: 0 });
    expect(predictor.calls).toEqual([...Array(15).fill(64), 40]);
    expect(progress.length).toBe(16);
    expect(progress.map((p) => p.records)).toEqual([...Array.from({ length: 15 }, (_, i) => (i + 1) * 64), 1000]);
    expect(progress.every((p, i) => i === 0 || p.doneBytes > progress[i - 1].doneBytes)).toBe(true);
    expect(progress.at(-1)).toEqual({ doneBytes: result.bytes, totalBytes: result.bytes, records: 1000 });
    // doneBytes after the first batch ends exactly after its 64th line
    expect(progress[0].doneBytes).toBe(Buffer.byteLength(lines(texts.slice(0, 64))));
  });

  it('handles CRLF, a byte order mark, a last line without newline, trailing empty lines, and lines longer than a read', async () => {
    const long = 'L'.repeat(700_000);
    const input = write('in.jsonl', '\ufeff' + JSON.stringify({ text: 'a' }) + '\r\n' + JSON.stringify({ text: long }) + '\n' + JSON.stringify({ text: 'ccc' }) + '\n\n  \n' + JSON.stringify({ text: 'dd' }).slice(0, 0));
    const output = path.join(dir, 'out.jsonl');
    await predictFile(textLengthPredictor(), input, output, { batchSize: 2 });
    expect(fs.readFileSync(output, 'utf8')).toBe('{"length":1}\n{"length":700000}\n{"length":3}\n');
    const noNewline = write('last.jsonl', '{"text":"x"}\n{"text":"yy"}');
    await predictFile(textLengthPredictor(), noNewline, output);
    expect(fs.readFileSync(output, 'utf8')).toBe('{"length":1}\n{"length":2}\n');
  });

  it('streams to a writable, waiting when it pushes back', async () => {
    const input = write('in.jsonl', lines(Array.from({ length: 300 }, (_, i) => 'x'.repeat(i))));
    const chunks: string[] = [];
    let queuedBehind = 0;
    const sink: Writable = new Writable({
      highWaterMark: 16,
      write(chunk: Buffer, _enc, cb) {
        chunks.push(String(chunk));
        // What else sits in the stream's buffer while this chunk is written: nothing, if predictFile waits for 'drain'.
        queuedBehind = Math.max(queuedBehind, sink.writableLength - chunk.length);
        setTimeout(cb, 5);
      },
    });
    await predictFile(textLengthPredictor(), input, sink, { batchSize: 50 });
    const out = chunks.join('').trimEnd().split('\n');
    expect(out.map((l) => JSON.parse(l).length)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(chunks.length).toBe(6);
    expect(queuedBehind).toBe(0);
  });

  it('KILN6101: a record that does not match the schema names the line and the field, and leaves the old output untouched', async () => {
    const texts = Array.from({ length: 500 }, (_, i) => `ok ${i}`);
    const input = write('in.jsonl', lines(texts.slice(0, 449)) + '{"text": 17}\n' + lines(texts.slice(450)));
    const output = write('out.jsonl', 'previous predictions\n');
    const d = await diagnosticOf(predictFile(textLengthPredictor(), input, output, { batchSize: 100 }));
    expect(d).toMatchObject({ code: 'KILN6101', message: `line 450 of ${input} does not match the model input schema: /text: must be string` });
    expect(fs.readFileSync(output, 'utf8')).toBe('previous predictions\n');
    expect(fs.readdirSync(dir).sort()).toEqual(['in.jsonl', 'out.jsonl']); // no temporary file left
  });

  it('KILN6101 for a missing field, and no output file at all when there was none', async () => {
    const input = write('in.jsonl', '{"text":"a"}\n{"body":"b"}\n');
    const output = path.join(dir, 'out.jsonl');
    const d = await diagnosticOf(predictFile(textLengthPredictor(), input, output));
    expect(d.message).toBe(`line 2 of ${input} does not match the model input schema: /text: is required`);
    expect(fs.existsSync(output)).toBe(false);
    expect(fs.readdirSync(dir)).toEqual(['in.jsonl']);
  });

  it('KILN6102: a line that is not JSON names the line and column', async () => {
    const input = write('in.jsonl', '{"text":"a"}\n{"text": "b",}\n');
    const d = await diagnosticOf(predictFile(textLengthPredictor(), input, path.join(dir, 'out.jsonl')));
    expect(d).toMatchObject({ code: 'KILN6102', message: `line 2 of ${input} is not valid JSON (column 14): expected a property name in double quotes at line 1, column 14, near "}"` });
  });

  it('KILN6103: an empty line between records breaks alignment', async () => {
    const input = write('in.jsonl', '{"text":"a"}\n\n{"text":"b"}\n');
    const d = await diagnosticOf(predictFile(textLengthPredictor(), input, path.join(dir, 'out.jsonl')));
    expect(d).toMatchObject({ code: 'KILN6103', message: `line 2 of ${input} is empty` });
  });

  it('KILN6104: when the model throws, the record it threw on is found and named', async () => {
    const texts = Array.from({ length: 40 }, (_, i) => (i === 26 ? 'boom' : `t${i}`));
    const input = write('in.jsonl', lines(texts));
    const output = path.join(dir, 'out.jsonl');
    const d = await diagnosticOf(predictFile(textLengthPredictor({ poison: 'boom' }), input, output, { batchSize: 16 }));
    expect(d).toMatchObject({ code: 'KILN6104', message: `the model failed on line 27 of ${input}: cannot featurize 'boom'` });
    expect(fs.readdirSync(dir)).toEqual(['in.jsonl']);
  });

  it('KILN6105: an input that is missing or not a file', async () => {
    const missing = path.join(dir, 'nope.jsonl');
    expect(await diagnosticOf(predictFile(textLengthPredictor(), missing, path.join(dir, 'o')))).toMatchObject({
      code: 'KILN6105',
      message: `cannot read input file ${missing}: no such file or folder`,
    });
    expect((await diagnosticOf(predictFile(textLengthPredictor(), dir, path.join(dir, 'o')))).message).toBe(`cannot read input file ${dir}: it is not a file`);
  });

  it('KILN6106: an output in a missing folder, or that is a folder', async () => {
    const input = write('in.jsonl', lines(['a']));
    const nowhere = path.join(dir, 'missing', 'out.jsonl');
    expect(await diagnosticOf(predictFile(textLengthPredictor(), input, nowhere))).toMatchObject({
      code: 'KILN6106',
      message: `cannot write the predictions to ${nowhere}: no such file or folder`,
    });
    expect((await diagnosticOf(predictFile(textLengthPredictor(), input, dir))).message).toBe(`cannot write the predictions to ${dir}: it is a folder`);
  });

  it('KILN6106: an output on a full disk says so, and leaves no partial file (needs a tmpfs: skipped where mount is refused)', async (ctx) => {
    const full = path.join(dir, 'full');
    fs.mkdirSync(full);
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', full]).status !== 0) return ctx.skip();
    try {
      const input = write('in.jsonl', lines(Array.from({ length: 20_000 }, (_, i) => String(i))));
      const output = path.join(full, 'out.jsonl');
      expect(await diagnosticOf(predictFile(textLengthPredictor(), input, output, { batchSize: 1000 }))).toMatchObject({
        code: 'KILN6106',
        message: `cannot write the predictions to ${output}: no space left on its disk`,
      });
      expect(fs.readdirSync(full)).toEqual([]);
    } finally {
      spawnSync('umount', ['-l', full]);
    }
  });

  it('KILN6107: a batch size that is not a positive integer', async () => {
    const input = write('in.jsonl', lines(['a']));
    expect(await diagnosticOf(predictFile(textLengthPredictor(), input, path.join(dir, 'o'), { batchSize: 0 }))).toMatchObject({
      code: 'KILN6107',
      message: "predict option 'batchSize' must be a positive integer, but is 0",
    });
  });

  it('an empty input gives an empty output', async () => {
    const input = write('in.jsonl', '');
    const output = path.join(dir, 'out.jsonl');
    expect(await predictFile(textLengthPredictor(), input, output)).toEqual({ records: 0, bytes: 0, skipped: 0 });
    expect(fs.readFileSync(output, 'utf8')).toBe('');
  });
});

describe('predictFile with bad lines', () => {
  // Lines 3 (not JSON), 5 (empty, between records), 8 (wrong type), 11 (the model throws), among good ones.
  const mixed = () =>
    write('in.jsonl', ['{"text":"a"}', '{"text":"bb"}', '{"text":', '{"text":"dddd"}', '', '{"text":"f"}', '{"text":"gg"}', '{"text":7}', '{"text":"i"}', '{"text":"jj"}', '{"text":"boom"}', '{"text":"l"}'].join('\n') + '\n\n');

  it("fail (the default) reports every bad line in line order, and leaves neither output nor temporary file", async () => {
    const input = mixed();
    const output = write('out.jsonl', 'previous predictions\n');
    let error: unknown;
    await predictFile(textLengthPredictor({ poison: 'boom' }), input, output, { batchSize: 4 }).catch((e: unknown) => (error = e));
    expect(isKilnError(error)).toBe(true);
    const [first, rest] = (error as { diagnostics: Array<{ code: string; message: string; detail?: string }> }).diagnostics;
    expect(first).toMatchObject({ code: 'KILN6102', message: expect.stringMatching(new RegExp(`^line 3 of ${input.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not valid JSON`)) });
    // Line 11 is not listed: once the file fails nothing more is predicted, the rest is only checked against the schema.
    expect(rest).toMatchObject({ code: 'KILN6130', message: `2 more bad line(s) in ${input}` });
    expect(rest.detail).toBe('KILN6103: line 5 is empty\nKILN6101: line 8 does not match the model input schema: /text: must be string');
    expect(fs.readFileSync(output, 'utf8')).toBe('previous predictions\n');
    expect(fs.readdirSync(dir).sort()).toEqual(['in.jsonl', 'out.jsonl']);
  });

  it(`fail lists at most ${REPORTED_BAD_LINES} bad lines and counts the others`, async () => {
    const input = write('in.jsonl', Array.from({ length: 100 }, (_, i) => (i % 2 ? '{"text":1}' : '{"text":"ok"}')).join('\n') + '\n');
    let error: unknown;
    await predictFile(textLengthPredictor(), input, path.join(dir, 'out.jsonl'), { batchSize: 8 }).catch((e: unknown) => (error = e));
    const [first, rest] = (error as { diagnostics: Array<{ code: string; message: string; detail?: string }> }).diagnostics;
    expect(first.message).toMatch(/^line 2 of /);
    expect(rest.message).toBe(`49 more bad line(s) in ${input}`);
    const detail = rest.detail!.split('\n');
    expect(detail).toHaveLength(REPORTED_BAD_LINES);
    expect(detail.at(-2)).toMatch(/^KILN6101: line 40 does not match/);
    expect(detail.at(-1)).toBe('... and 30 more');
  });

  it('skip predicts every good line, writes null for each bad one (alignment holds) and lists them in the errors file', async () => {
    const input = mixed();
    const output = path.join(dir, 'out.jsonl');
    const errorsPath = path.join(dir, 'out.errors.jsonl');
    const predictor = textLengthPredictor({ poison: 'boom' });
    const result = await predictFile(predictor, input, output, { batchSize: 4, onError: 'skip', errorsPath });
    expect(result).toEqual({ records: 8, bytes: fs.statSync(input).size, skipped: 4 });
    expect(fs.readFileSync(output, 'utf8').split('\n').slice(0, -1).map((l) => JSON.parse(l)?.length ?? null)).toEqual([1, 2, null, 4, null, 1, 2, null, 1, 2, null, 1]);
    const errors = fs.readFileSync(errorsPath, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(errors.map((e) => [e.line, e.code])).toEqual([[3, 'KILN6102'], [5, 'KILN6103'], [8, 'KILN6101'], [11, 'KILN6104']]);
    expect(errors[3].message).toBe(`the model failed on line 11 of ${input}: cannot featurize 'boom'`);
    expect(errors[3].hint).toMatch(/passed the input schema/);
    expect(fs.readdirSync(dir).sort()).toEqual(['in.jsonl', 'out.errors.jsonl', 'out.jsonl']);
  });

  it('skip with no bad line writes an empty errors file (an older one is not left to mislead)', async () => {
    const input = write('in.jsonl', lines(['a', 'b']));
    const errorsPath = write('e.jsonl', '{"line":1}\n');
    expect(await predictFile(textLengthPredictor(), input, path.join(dir, 'out.jsonl'), { onError: 'skip', errorsPath })).toMatchObject({ records: 2, skipped: 0 });
    expect(fs.readFileSync(errorsPath, 'utf8')).toBe('');
  });

  it("KILN6107: an onError that is neither 'fail' nor 'skip'", async () => {
    const input = write('in.jsonl', lines(['a']));
    expect(await diagnosticOf(predictFile(textLengthPredictor(), input, path.join(dir, 'o'), { onError: 'ignore' as 'skip' }))).toMatchObject({
      code: 'KILN6107',
      message: "predict option 'onError' must be 'fail' or 'skip', but is \"ignore\"",
    });
  });
});

describe('kiln predict --on-error', () => {
  it('refuses a mode other than fail or skip before loading the artifact (exit 1, KILN6107)', () => {
    const input = write('in.jsonl', lines(['a']));
    const r = runCli(['predict', path.join(dir, 'no-artifact'), '--input', input, '--on-error', 'ignore'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error KILN6107: predict option 'onError' must be 'fail' or 'skip', but is "ignore"`);
  });

  it('puts the errors file beside the output, or beside the input when predictions go to stdout', () => {
    expect(defaultErrorsPath('out/preds.jsonl', 'in.jsonl')).toBe(path.join('out', 'preds.errors.jsonl'));
    expect(defaultErrorsPath(undefined, 'data/in.jsonl')).toBe(path.join('data', 'in.errors.jsonl'));
    expect(defaultErrorsPath('preds.txt', 'in.jsonl')).toBe('preds.txt.errors.jsonl');
  });
});

describe('formatProgress', () => {
  it('draws a bar by bytes', () => {
    expect(formatProgress({ doneBytes: 12_300_000, totalBytes: 30_000_000, records: 10_240 }, 20)).toBe('[########............]  41%  12.3/30.0 MB  10,240 records');
    expect(formatProgress({ doneBytes: 0, totalBytes: 0, records: 0 }, 4)).toBe('[####] 100%  0.0/0.0 MB  0 records');
  });
});
