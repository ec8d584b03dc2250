// MLflow request formats, content types and error messages, without HTTP.
import { describe, expect, it } from 'vitest';
import { checkContentType, parseJsonBody, recordsFromBody, ScoringError, validateRecords } from '../../src/serve/protocol.ts';
import { findJsonSyntaxError } from '../../src/serve/json-syntax.ts';
import { recordsFromCsv } from '../../src/serve/csv-body.ts';
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
    { name: 'a list', body: [{ text: 'a' }], want: /Received a list\./ },
    { name: 'a string', body: 'hello', want: /Received unexpected input type 'string'/ },
    { name: 'instances not a list', body: { instances: { text: 'a' } }, want: /'instances' must be a list of records, but is a dictionary/ },
    { name: 'columns of unequal length', body: { inputs: { text: ['a'], n: [1, 2] } }, want: /'text' has 1, 'n' has 2/ },
    { name: 'column not a list', body: { inputs: { text: 'a' } }, want: /'text' must be a list of values, but is a string/ },
    { name: 'split row too short', body: { dataframe_split: { columns: ['text', 'n'], data: [['a', 1], ['b']] } }, want: /'dataframe_split.data\[1\]' has 1 values, but there are 2 columns \["text","n"\]/ },
    { name: 'split without columns', body: { dataframe_split: { data: [['a']] } }, want: /'dataframe_split.columns' must be a list of column names, but is missing/ },
    { name: "a '__proto__' column", body: { dataframe_split: { columns: ['__proto__'], data: [[{ text: 'x' }]] } }, want: /'dataframe_split.columns' has a column named '__proto__'/ },
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
  const table: Array<[string | undefined, number | 'json' | 'csv', RegExp?]> = [
    ['application/json', 'json'],
    ['application/json; charset=utf-8', 'json'],
    ['Application/JSON;charset="UTF-8"', 'json'],
    ['text/csv', 'csv'],
    ['text/csv; charset=utf-8', 'csv'],
    ['text/plain', 415, /only supports the following content types: Types: \['text\/csv', 'application\/json'\]\. Got 'text\/plain'\./],
    [undefined, 415, /Got ''/],
    ['application/json; charset=latin-1', 415, /only supports UTF-8/],
    ['application/json; format=pandas-split', 415, /Unrecognized content type parameters: format\./],
  ];
  for (const [header, status, message] of table) {
    it(`${header ?? '(none)'} → ${status ?? 'ok'}`, () => {
      const e = checkContentType(header);
      if (typeof status === 'string') return expect(e).toBe(status);
      if (!(e instanceof ScoringError)) throw new Error(`expected a 415, got ${e}`);
      expect(e.status).toBe(status);
      expect(e.contentType).toMatch(/^text\/plain/);
      expect(e.body).toMatch(message!);
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

describe('bounded work and answers for hostile bodies', () => {
  const mb = (c: string) => c.repeat(1_000_000);
  const messageOf = (f: () => unknown) => JSON.parse(thrown(f).body).message as string;

  it('unknown 1 MB keys: answered at once, each quoted key cut', () => {
    const t0 = performance.now();
    const message = messageOf(() => recordsFromBody({ [mb('a')]: 1, [mb('b')]: 2, [mb('c')]: 3 }, 'text'));
    expect(performance.now() - t0).toBeLessThan(200);
    expect(message.length).toBeLessThan(1_000);
    expect(message).toContain(`"${'a'.repeat(64)}…"`);
  });

  it('a thousand unknown keys: ten quoted, the rest counted', () => {
    const body = Object.fromEntries(Array.from({ length: 1_000 }, (_, i) => [`key${i}`, i]));
    const message = messageOf(() => recordsFromBody(body, 'text'));
    expect(message).toContain('(and 990 more)');
    expect(message.length).toBeLessThan(1_000);
  });

  it('column names from the request are cut in every message', () => {
    const cases: unknown[] = [
      { inputs: { [mb('x')]: 'not a list' } },
      { inputs: { [mb('x')]: [1], [mb('y')]: [1, 2] } },
      { dataframe_split: { columns: Array.from({ length: 100_000 }, (_, i) => `c${i}`), data: [[1]] } },
      { dataframe_split: { columns: [mb('x')], data: [[1, 2]] } },
    ];
    for (const body of cases) expect(messageOf(() => recordsFromBody(body, 'text')).length).toBeLessThan(1_000);
  });

  it("a record's problem is cut (the validator may quote a field name the client chose)", () => {
    const e = validateRecords([{ text: 'a', [mb('k')]: 1 }], 'inputs', textLengthPredictor())!;
    expect(e.body.length).toBeLessThan(1_000);
    expect(JSON.parse(e.body).message).toMatch(/record 0 \(inputs\[0\]\): \/k{50,}… \(cut at 300 of 1000017 characters\)$/);
  });
});

describe('parseJsonBody: MLflow tokens, errors and depth', () => {
  it("takes NaN, Infinity and -Infinity as Python's json writes them, leaving strings alone", () => {
    const v = parseJsonBody('{"inputs": [{"x": NaN, "y": Infinity, "z": -Infinity, "s": "NaN, Infinity", "n": -1.5e2}], "__proto__": [NaN]}') as Record<string, unknown>;
    expect(v.inputs).toEqual([{ x: NaN, y: Infinity, z: -Infinity, s: 'NaN, Infinity', n: -150 }]);
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(v, '__proto__')?.value).toEqual([NaN]);
  });

  it('still locates a syntax error in a body that has NaN', () => {
    const message = JSON.parse(thrown(() => parseJsonBody('{"a": NaN, "b": }')).body).message;
    expect(message).toBe('Invalid input. Ensure that input is a valid JSON formatted string. Error: expected a value at line 1, column 17, near "}"');
    expect(JSON.parse(thrown(() => parseJsonBody('{"a": NaNa}')).body).message).toMatch(/at line 1, column 10/);
  });

  it('malformed JSON is BAD_REQUEST, as in MLflow', () => {
    expect(JSON.parse(thrown(() => parseJsonBody('{"inputs": [}')).body).error_code).toBe('BAD_REQUEST');
  });

  it('refuses nesting past 64 levels with a 400, however deep', () => {
    expect(parseJsonBody('['.repeat(64) + ']'.repeat(64))).toBeDefined();
    for (const text of ['['.repeat(65) + ']'.repeat(65), `{"inputs": [{"text": "a"}], "params": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`, '{"a": "[[[[", "b": ' + '{"c":'.repeat(70)]) {
      const e = thrown(() => parseJsonBody(text));
      expect(e.status).toBe(400);
      expect(JSON.parse(e.body)).toMatchObject({ error_code: 'BAD_REQUEST', message: expect.stringMatching(/more than 64 levels deep \(at line 1, column \d+\)/) });
    }
    // Brackets inside strings do not count.
    expect(parseJsonBody(JSON.stringify({ text: '['.repeat(1_000) }))).toEqual({ text: '['.repeat(1_000) });
  });
});

describe('recordsFromBody: what MLflow ignores', () => {
  it('ignores params, and says so', () => {
    const got = recordsFromBody({ inputs: [{ text: 'a' }], params: { threshold: 0.3 } }, 'text');
    expect(got.records).toEqual([{ text: 'a' }]);
    expect(got.ignored).toBe("ignored 'params' (this model takes no inference parameters)");
  });

  it('ignores fields beside the input, and names them', () => {
    const got = recordsFromBody({ inputs: [{ text: 'a' }], colour: 1, params: {} }, 'text');
    expect(got.records).toEqual([{ text: 'a' }]);
    expect(got.ignored).toBe('ignored unknown fields ["colour"]');
  });

  it('ignores nothing in a plain request', () => {
    expect(recordsFromBody({ inputs: [{ text: 'a' }] }, 'text').ignored).toBeUndefined();
  });
});

describe('recordsFromCsv', () => {
  const schema = {
    type: 'object',
    properties: { text: { type: 'string' }, n: { type: 'integer' }, x: { type: ['number', 'null'] }, ok: { type: 'boolean' }, code: { type: 'string' } },
  };

  it("types cells by the input schema, drops pandas' index column, and leaves empty cells out", async () => {
    const csv = ',text,n,x,ok,code\n0,hello,3,2.5,True,007\n1,"multi\nline",,-inf,false,12\n\n2,z,x1,NaN,maybe,\n';
    expect((await recordsFromCsv(csv, schema))!.records).toEqual([
      { text: 'hello', n: 3, x: 2.5, ok: true, code: '007' },
      { text: 'multi\nline', x: -Infinity, ok: false, code: '12' },
      { text: 'z', n: 'x1', x: NaN, ok: 'maybe' },
    ]);
  });

  const errors: Array<[string, string, RegExp]> = [
    ['a row with too many cells', 'text\na\nb,c\n', /^Invalid input\. Failed to parse input as a Pandas DataFrame\. .*Invalid Record Length: expect 1, got 2 on line 3/],
    ['an unclosed quote', 'text\n"open\n', /^Invalid input\. Failed to parse input as a Pandas DataFrame\. .*Quote Not Closed/],
    ['an empty body', '', /the body is empty; the first line must name the columns/],
    ['a column named twice', 'text,text\na,b\n', /names the column 'text' twice/],
    ["a '__proto__' column", '__proto__\na\n', /column named '__proto__'/],
  ];
  for (const [name, csv, want] of errors) {
    it(`400 BAD_REQUEST: ${name}`, async () => {
      const e = await recordsFromCsv(csv, schema).then(
        () => undefined,
        (x: unknown) => x,
      );
      if (!(e instanceof ScoringError)) throw new Error(`expected a ScoringError, got ${String(e)}`);
      const body = JSON.parse(e.body);
      expect(body.error_code).toBe('BAD_REQUEST');
      expect(body.message).toMatch(want);
    });
  }

  it('parses a large body a slice per turn of the event loop, so other work goes on', async () => {
    const row = 'hello world,1.5\n';
    const csv = 'text,x\n' + row.repeat(40_000);
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 0);
    const got = await recordsFromCsv(csv, schema);
    clearInterval(ticker);
    expect(got!.records).toHaveLength(40_000);
    expect(got!.records[0]).toEqual({ text: 'hello world', x: 1.5 });
    expect(ticks).toBeGreaterThan(3);
  });

  it('stops when the request is abandoned (timed out)', async () => {
    let calls = 0;
    expect(await recordsFromCsv('text\n' + 'a\n'.repeat(100_000), schema, () => ++calls > 1)).toBeUndefined();
    expect(calls).toBe(2);
  });

  it('names the CSV row of an invalid record', async () => {
    const { records } = (await recordsFromCsv('text\nok\n"two\nlines"\n', { properties: { text: { type: 'string' } } }))!;
    const e = validateRecords([...records, {}], 'csv', textLengthPredictor());
    expect(JSON.parse(e!.body).message).toBe('Failed to enforce schema of data: 1 of 3 records invalid: record 2 (CSV row 3 after the header): /text: is required');
  });
});
