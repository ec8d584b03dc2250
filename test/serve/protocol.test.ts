// MLflow request formats, content types and error messages, without HTTP.
import { describe, expect, it } from 'vitest';
import { checkContentType, parseJsonBody, recordsFromBody, ScoringError, validateRecords } from '../../src/serve/protocol.ts';
import { findJsonSyntaxError } from '../../src/serve/json-syntax.ts';
import { textLengthPredictor } from './support.ts';

function thrown(f: () => unknown): ScoringError {
  try {
    f();
  } catch (e) {
    if (e instanceof ScoringError) return e;
    throw e;
  }
  throw new Error('expected a ScoringError');
}

describe('recordsFromBody', () => {
  const records = [{ text: 'a' }, { text: 'bc' }];
  const cases: Array<{ name: string; body: unknown; single?: string; want: unknown[]; format: string }> = [
    { name: 'inputs as records', body: { inputs: records }, want: records, format: 'inputs' },
    { name: 'instances', body: { instances: records }, want: records, format: 'instances' },
    { name: 'dataframe_records', body: { dataframe_records: records }, want: records, format: 'dataframe_records' },
    { name: 'dataframe_split', body: { dataframe_split: { columns: ['text'], data: [['a'], ['bc']] } }, want: records, format: 'dataframe_split' },
    { name: 'dataframe_split with index', body: { dataframe_split: { index: [7, 8], columns: ['text', 'n'], data: [['a', 1], ['bc', 2]] } }, want: [{ text: 'a', n: 1 }, { text: 'bc', n: 2 }], format: 'dataframe_split' },
    { name: 'inputs as columns', body: { inputs: { text: ['a', 'bc'] } }, want: records, format: 'inputs' },
    { name: 'single-column scalars (MLflow single input)', body: { inputs: ['a', 'bc'] }, single: 'text', want: records, format: 'inputs' },
    { name: 'instances scalars', body: { instances: ['a', 'bc'] }, single: 'text', want: records, format: 'instances' },
    { name: 'scalars kept without a single column', body: { inputs: ['a'] }, want: ['a'], format: 'inputs' },
    { name: 'empty params allowed', body: { inputs: records, params: {} }, want: records, format: 'inputs' },
    { name: 'empty list', body: { inputs: [] }, want: [], format: 'inputs' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = recordsFromBody(c.body, c.single ?? null);
      expect(got.records).toEqual(c.want);
      expect(got.format).toBe(c.format);
    });
  }

  it('passes a records list through without copying', () => {
    const list = [{ text: 'x' }];
    expect(recordsFromBody({ inputs: list }, 'text').records).toBe(list);
  });

  const errors: Array<{ name: string; body: unknown; want: RegExp }> = [
    { name: 'unknown key lists the accepted keys', body: { input: [] }, want: /exactly one of the input fields \{'dataframe_split', 'dataframe_records', 'instances', 'inputs'\}\. Received dictionary with input fields: \["input"\]\. For 'input', did you mean 'inputs'\?/ },
    { name: 'two format keys', body: { inputs: [], instances: [] }, want: /exactly one of the input fields .*Received dictionary with input fields: \["inputs","instances"\]/ },
    { name: 'extra unknown key', body: { inputs: [], colour: 1 }, want: /only 'params' is allowed; unknown: \["colour"\]/ },
    { name: 'a list', body: [{ text: 'a' }], want: /Received a list\./ },
    { name: 'a string', body: 'hello', want: /Received unexpected input type 'string'/ },
    { name: 'instances not a list', body: { instances: { text: 'a' } }, want: /'instances' must be a list of records, but is a dictionary/ },
    { name: 'columns of unequal length', body: { inputs: { text: ['a'], n: [1, 2] } }, want: /'text' has 1, 'n' has 2/ },
    { name: 'column not a list', body: { inputs: { text: 'a' } }, want: /'text' must be a list of values, but is a string/ },
    { name: 'split row too short', body: { dataframe_split: { columns: ['text', 'n'], data: [['a', 1], ['b']] } }, want: /'dataframe_split.data\[1\]' has 1 values, but there are 2 columns \["text","n"\]/ },
    { name: 'split without columns', body: { dataframe_split: { data: [['a']] } }, want: /'dataframe_split.columns' must be a list of column names, but is missing/ },
    { name: "a '__proto__' column", body: { dataframe_split: { columns: ['__proto__'], data: [[{ text: 'x' }]] } }, want: /'dataframe_split.columns' has a column named '__proto__'/ },
    { name: 'params are refused', body: { inputs: [], params: { threshold: 0.3 } }, want: /takes no inference parameters.*"threshold":0.3/ },
  ];
  for (const c of errors) {
    it(`400 BAD_REQUEST: ${c.name}`, () => {
      const e = thrown(() => recordsFromBody(c.body, 'text'));
      expect(e.status).toBe(400);
      const body = JSON.parse(e.body);
      expect(body.error_code).toBe('BAD_REQUEST');
      expect(body.message).toMatch(/^Invalid input\. /);
      expect(body.message).toMatch(c.want);
    });
  }
});

describe('checkContentType', () => {
  const table: Array<[string | undefined, number | null, RegExp?]> = [
    ['application/json', null],
    ['application/json; charset=utf-8', null],
    ['Application/JSON;charset="UTF-8"', null],
    ['text/csv', 415, /only supports the following content types: Types: \['application\/json'\]\. Got 'text\/csv'\./],
    ['text/plain', 415, /Got 'text\/plain'/],
    [undefined, 415, /Got ''/],
    ['application/json; charset=latin-1', 415, /only supports UTF-8/],
    ['application/json; format=pandas-split', 415, /Unrecognized content type parameters: format\./],
  ];
  for (const [header, status, message] of table) {
    it(`${header ?? '(none)'} → ${status ?? 'ok'}`, () => {
      const e = checkContentType(header);
      if (status === null) return expect(e).toBeNull();
      expect(e?.status).toBe(status);
      expect(e?.contentType).toMatch(/^text\/plain/);
      expect(e?.body).toMatch(message!);
    });
  }
});

describe('parseJsonBody', () => {
  it('says where the JSON breaks, without echoing the body', () => {
    const text = `{"inputs": [{"text": "${'x'.repeat(5000)}"}, }]}`;
    const e = thrown(() => parseJsonBody(text));
    const message = JSON.parse(e.body).message as string;
    expect(message).toMatch(/^Invalid input\. Ensure that input is a valid JSON formatted string\. Error: expected a value at line 1, column 5027, near "}]}"$/);
    expect(message.length).toBeLessThan(200);
  });

  const table: Array<[string, string, number, number]> = [
    ['', 'unexpected end of input: expected a value', 1, 1],
    ['{"a": tru}', 'expected a value', 1, 7],
    ['{"a" 1}', "expected ':' after a property name", 1, 6],
    ['{"a": 1,\n "b": [1, 2\n}', "expected ',' or ']' after an array element", 3, 1],
    ['{a: 1}', 'expected a property name in double quotes', 1, 2],
    ['{"a": "x\u0001"}', 'control character in a string (escape it, e.g. \\n)', 1, 9],
    ['{"a": "\\q"}', "bad escape '\\q' in a string", 1, 8],
    ['{"a": 01}', 'bad number', 1, 8],
    ['{"a": 1} x', 'unexpected text after the JSON value', 1, 10],
    ['{"a": "open', 'unexpected end of input: unterminated string', 1, 12],
    ['[[[[[[[[[[1]]]]]]]]]', "unexpected end of input: expected ',' or ']' after an array element", 1, 21],
  ];
  for (const [text, reason, line, column] of table) {
    it(`locates ${JSON.stringify(text)}`, () => {
      expect(findJsonSyntaxError(text)).toMatchObject({ reason, line, column });
    });
  }

  it('finds nothing wrong in valid JSON, deep nesting included', () => {
    for (const text of ['{"a": [1, -2.5e3, true, false, null, "\\u00e9\\n"], "b": {}}', ' [] ', '[' .repeat(100_000) + ']'.repeat(100_000)]) {
      expect(findJsonSyntaxError(text)).toBeNull();
    }
  });
});

describe('validateRecords', () => {
  const validate = textLengthPredictor();
  it('names the request key, the record index and the field', () => {
    const e = validateRecords([{ text: 'ok' }, { text: 3 }, {}], 'inputs', validate)!;
    expect(e.status).toBe(400);
    const body = JSON.parse(e.body);
    expect(body.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(body.message).toBe('Failed to enforce schema of data: 2 of 3 records invalid: record 1 (inputs[1]): /text: must be string; record 2 (inputs[2]): /text: is required');
  });

  it('names the dataframe_split row', () => {
    const e = validateRecords([{ text: 1 }], 'dataframe_split', validate)!;
    expect(JSON.parse(e.body).message).toContain('record 0 (dataframe_split.data[0]): /text: must be string');
  });

  it('lists ten failures and counts the rest', () => {
    const e = validateRecords(Array.from({ length: 25 }, () => ({ text: 0 })), 'instances', validate)!;
    const message = JSON.parse(e.body).message as string;
    expect(message).toContain('25 of 25 records invalid');
    expect(message).toContain('record 9 (instances[9])');
    expect(message).not.toContain('record 10 (');
    expect(message).toMatch(/and 15 more invalid records$/);
  });

  it('is null when every record is valid', () => {
    expect(validateRecords([{ text: '' }], 'inputs', validate)).toBeNull();
  });
});
