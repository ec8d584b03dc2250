// Where MLflow's scoring server is lenient, kiln is too (over real HTTP): params and fields beside the input are
// ignored with a warning header, text/csv bodies are scored, NaN and Infinity tokens parse, bad JSON is BAD_REQUEST.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WARNING_HEADER } from '../../src/serve/server.ts';
import { invoke, start, stillServing, textLengthPredictor, type Running } from './support.ts';

describe('scoring server: MLflow compatibility', () => {
  let s: Running;
  beforeAll(async () => {
    s = await start(textLengthPredictor());
  });
  afterAll(() => s.scoring.close());

  it("non-empty params (MLflow's client sends them): 200, and a warning header", async () => {
    const r = await invoke(s.url, { inputs: [{ text: 'abc' }], params: { threshold: 0.3 } });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ predictions: [{ length: 3 }] });
    expect(r.headers.get(WARNING_HEADER)).toBe("ignored 'params' (this model takes no inference parameters)");
  });

  it('unknown fields beside the input: 200, named in the warning header (non-ASCII escaped)', async () => {
    const r = await invoke(s.url, { dataframe_records: [{ text: 'ab' }], colour: 'blue', 'clé': 1 });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ predictions: [{ length: 2 }] });
    expect(r.headers.get(WARNING_HEADER)).toBe('ignored unknown fields ["colour","cl\\u00e9"]');
  });

  it('a plain request has no warning header', async () => {
    expect((await invoke(s.url, { inputs: [{ text: 'a' }] })).headers.get(WARNING_HEADER)).toBeNull();
  });

  it('text/csv with a header row (pandas to_csv, index included): 200', async () => {
    const r = await invoke(s.url, ',text\n0,hello\n1,"two\nlines, quoted"\n', 'text/csv');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ predictions: [{ length: 5 }, { length: 17 }] });
  });

  it('text/csv: a record the schema refuses names its CSV row; a malformed CSV is BAD_REQUEST', async () => {
    const invalid = await invoke(s.url, 'text,extra\na,1\n', 'text/csv; charset=utf-8');
    expect(invalid.status).toBe(400);
    expect(invalid.json).toEqual({ error_code: 'INVALID_PARAMETER_VALUE', message: 'Failed to enforce schema of data: 1 of 1 record invalid: record 0 (CSV row 1 after the header): /extra: is not allowed' });
    const malformed = await invoke(s.url, 'text\n"unclosed\n', 'text/csv');
    expect(malformed.status).toBe(400);
    expect(malformed.json.error_code).toBe('BAD_REQUEST');
    expect(malformed.json.message).toMatch(/^Invalid input\. Failed to parse input as a Pandas DataFrame\./);
    await stillServing(s.url);
  });

  it("NaN and Infinity tokens (Python's json.dumps): parsed, as MLflow parses them", async () => {
    const ok = await invoke(s.url, '{"inputs": [{"text": "abcd"}], "params": {"threshold": NaN, "limit": Infinity, "floor": -Infinity}}');
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({ predictions: [{ length: 4 }] });
    // NaN where the schema wants text is the schema's 400, not a syntax error.
    const wrong = await invoke(s.url, '{"inputs": [{"text": NaN}]}');
    expect(wrong.status).toBe(400);
    expect(wrong.json.message).toMatch(/record 0 \(inputs\[0\]\): \/text: must be string/);
  });

  it('malformed JSON: BAD_REQUEST, as MLflow answers it, still saying where', async () => {
    const r = await invoke(s.url, '{"inputs": [');
    expect(r.status).toBe(400);
    expect(r.json.error_code).toBe('BAD_REQUEST');
    expect(r.json.message).toMatch(/at line 1, column 13/);
  });
});
