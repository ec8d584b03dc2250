// Round trips and mistakes for every file type, the memory and metrics types, and createDataset's checks.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDataset, type Dataset } from '../../src/runtime/datasets/index.ts';
import type { DatasetIR, JsonValue } from '../../src/ir/types.ts';
import { codesOf, entry, tempProject, type TestProject } from './helpers.ts';

let p: TestProject;
beforeEach(() => {
  p = tempProject();
});
afterEach(() => p.cleanup());

const make = <T = unknown>(e: DatasetIR) => createDataset(e, p.env) as Dataset<T>;
const read = (rel: string) => readFileSync(path.join(p.root, rel), 'utf8');

describe('round trips', () => {
  const records = [
    { id: 1, text: 'héllo, "world"\nsecond line', tags: ['a', 'b'], ok: true, n: null },
    { id: 2, text: '', tags: [], ok: false, n: 2.5 },
  ];

  it.each<[string, DatasetIR, unknown]>([
    ['json (object)', entry('j', 'json', { path: 'data/j.json' }), { a: [1, 2, { b: 'c' }], d: null }],
    ['json (array)', entry('j', 'json', { path: 'data/j.json' }), records],
    ['json (scalar)', entry('j', 'json', { path: 'data/j.json' }), 42],
    ['jsonl', entry('l', 'jsonl', { path: 'data/l.jsonl' }), records],
    ['jsonl (empty)', entry('l', 'jsonl', { path: 'data/l.jsonl' }), []],
    ['text', entry('t', 'text', { path: 'data/t.txt' }), 'línea 1\nline 2\r\n\u{1F600}'],
    ['text (empty)', entry('t', 'text', { path: 'data/t.txt' }), ''],
    ['binary', entry('b', 'binary', { path: 'data/b.bin' }), new Uint8Array([0, 1, 2, 255, 10, 13])],
  ])('%s', async (_name, e, value) => {
    const ds = make(e);
    expect(await ds.exists()).toBe(false);
    expect(await ds.files()).toEqual([]);
    await ds.save(value);
    expect(await ds.exists()).toBe(true);
    expect(await ds.files()).toEqual([path.join(p.root, e.path!)]);
    const loaded = await ds.load();
    expect(loaded).toEqual(value);
    if (value instanceof Uint8Array) expect(Object.getPrototypeOf(loaded)).toBe(Uint8Array.prototype);
    // A second dataset object for the same entry reads the same thing (nothing is kept in the object).
    expect(await make(e).load()).toEqual(value);
  });

  it('json writes pretty (indent 2) by default and compact with indent 0', async () => {
    await make(entry('j', 'json', { path: 'a.json' })).save({ a: 1 });
    expect(read('a.json')).toBe('{\n  "a": 1\n}\n');
    await make(entry('j', 'json', { path: 'b.json', options: { indent: 0 } })).save({ a: [1, 2] });
    expect(read('b.json')).toBe('{"a":[1,2]}\n');
    await make(entry('j', 'json', { path: 'c.json', options: { indent: 4 } })).save({ a: 1 });
    expect(read('c.json')).toBe('{\n    "a": 1\n}\n');
  });

  it('jsonl writes one compact record per line and reads CRLF, blank lines and a BOM', async () => {
    const ds = make(entry('l', 'jsonl', { path: 'l.jsonl' }));
    await ds.save([{ a: 1 }, { b: 'x\ny' }]);
    expect(read('l.jsonl')).toBe('{"a":1}\n{"b":"x\\ny"}\n');
    writeFileSync(path.join(p.root, 'l.jsonl'), '\uFEFF{"a":1}\r\n\r\n  \n{"a":2}');
    expect(await ds.load()).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it('memory keeps the value by reference and drops it on release', async () => {
    const ds = make(entry('m', 'memory', { declared: false }));
    const value = { big: [1, 2, 3] };
    await ds.save(value);
    expect(await ds.load()).toBe(value);
    expect(await ds.files()).toEqual([]);
    expect(await ds.exists()).toBe(true);
    ds.release!();
    expect(await ds.exists()).toBe(false);
    const r = await codesOf(() => ds.load());
    expect(r.codes).toEqual(['KILN3102']);
    expect(r.messages[0]).toBe("dataset 'm' has nothing to load: it lives in memory and nothing has saved it in this run");
  });
});

describe('csv', () => {
  it('round trips objects with a header; every key of every record becomes a column', async () => {
    const ds = make(entry('c', 'csv', { path: 'c.csv' }));
    await ds.save([
      { a: 'x', b: 'has,comma' },
      { a: 'multi\nline', c: 'only here', b: 'quote "q"' },
    ]);
    expect(read('c.csv')).toBe('a,b,c\nx,"has,comma",\n"multi\nline","quote ""q""",only here\n');
    expect(await ds.load()).toEqual([
      { a: 'x', b: 'has,comma', c: '' },
      { a: 'multi\nline', b: 'quote "q"', c: 'only here' },
    ]);
  });

  it('writes booleans, numbers, dates and objects readably', async () => {
    const ds = make(entry('c', 'csv', { path: 'c.csv' }));
    await ds.save([{ t: true, f: false, n: 1.5, d: new Date('2024-01-02T03:04:05Z'), o: { k: 1 }, z: null }]);
    expect(read('c.csv')).toBe('t,f,n,d,o,z\ntrue,false,1.5,2024-01-02T03:04:05.000Z,"{""k"":1}",\n');
  });

  it('honours the delimiter option both ways', async () => {
    const ds = make(entry('c', 'csv', { path: 'c.tsv', options: { delimiter: '\t' } }));
    await ds.save([{ a: '1', b: 'x,y' }]);
    expect(read('c.tsv')).toBe('a\tb\n1\tx,y\n');
    writeFileSync(path.join(p.root, 's.csv'), 'a;b\n1;2\n');
    expect(await make(entry('s', 'csv', { path: 's.csv', options: { delimiter: ';' } })).load()).toEqual([{ a: '1', b: '2' }]);
  });

  it('without a header, names columns from the schema, else by position', async () => {
    writeFileSync(path.join(p.root, 'h.csv'), '1,spam\n2,ham\n');
    const schemaJson = { type: 'object', properties: { id: { type: 'integer' }, label: { type: 'string' } } };
    const typed = make(entry('h', 'csv', { path: 'h.csv', options: { header: false }, schemaJson }));
    expect(await typed.load()).toEqual([
      { id: 1, label: 'spam' },
      { id: 2, label: 'ham' },
    ]);
    expect(await make(entry('h', 'csv', { path: 'h.csv', options: { header: false } })).load()).toEqual([
      { 0: '1', 1: 'spam' },
      { 0: '2', 1: 'ham' },
    ]);
    await typed.save([{ id: 3, label: 'x' }]);
    expect(read('h.csv')).toBe('3,x\n');
  });

  it('with a schema, cells are converted to its types', async () => {
    writeFileSync(path.join(p.root, 't.csv'), 'n,ok,maybe,s\n1.5,true,,007\n');
    const schemaJson = { type: 'object', properties: { n: { type: 'number' }, ok: { type: 'boolean' }, maybe: { type: ['number', 'null'] }, s: { type: 'string' } } };
    expect(await make(entry('t', 'csv', { path: 't.csv', schemaJson })).load()).toEqual([{ n: 1.5, ok: true, maybe: null, s: '007' }]);
  });

  it('a row of the wrong width is KILN3105 with its line', async () => {
    writeFileSync(path.join(p.root, 'bad.csv'), 'a,b\n1,2\n3,4,5\n');
    const r = await codesOf(() => make(entry('bad', 'csv', { path: 'bad.csv' })).load());
    expect(r.codes).toEqual(['KILN3105']);
    expect(r.messages[0]).toMatch(/^bad\.csv line 3: dataset 'bad' cannot be read as csv: Invalid Record Length/);
    expect(r.hints[0]).toContain("delimiter (now ',')");
  });
});

describe('metrics', () => {
  it('records with the run (prefixed) and writes the file; load gives the values back', async () => {
    const ds = make<Record<string, number>>(entry('test_metrics', 'metrics', { path: 'metrics/test.json', options: { prefix: 'test.' } }));
    await ds.save({ accuracy: 0.93, loss: Number.NaN, best: Number.POSITIVE_INFINITY });
    expect(p.env.recorded).toEqual([['test_metrics', { 'test.accuracy': 0.93, 'test.loss': Number.NaN, 'test.best': Number.POSITIVE_INFINITY }]]);
    expect(JSON.parse(read('metrics/test.json'))).toEqual({ accuracy: 0.93, loss: 'NaN', best: 'Infinity' });
    expect(await ds.load()).toEqual({ accuracy: 0.93, loss: Number.NaN, best: Number.POSITIVE_INFINITY });
    // A fresh dataset object (a later run) reads the file.
    expect(await make(entry('test_metrics', 'metrics', { path: 'metrics/test.json' })).load()).toEqual({ accuracy: 0.93, loss: Number.NaN, best: Number.POSITIVE_INFINITY });
    expect(await ds.files()).toEqual([path.join(p.root, 'metrics/test.json')]);
  });

  it('without a path keeps the last values in memory only', async () => {
    const ds = make<Record<string, number>>(entry('m', 'metrics'));
    expect(await ds.exists()).toBe(false);
    expect((await codesOf(() => ds.load())).codes).toEqual(['KILN3102']);
    await ds.save({ f1: 0.5 });
    await ds.save({ f1: 0.75 });
    expect(await ds.load()).toEqual({ f1: 0.75 });
    expect(await ds.files()).toEqual([]);
    expect(p.env.recorded.map(([, m]) => m.f1)).toEqual([0.5, 0.75]);
  });

  it('refuses values that are not named numbers, recording nothing', async () => {
    const ds = make(entry('m', 'metrics'));
    for (const bad of [[1, 2], 0.5, { acc: '0.9' }]) {
      const r = await codesOf(() => ds.save(bad));
      expect(r.codes).toEqual(['KILN3108']);
    }
    expect((await codesOf(() => ds.save({ acc: '0.9' }))).messages[0]).toBe(
      "metrics dataset 'm' cannot save a string as metric 'acc': it expects an object of named numbers, such as { accuracy: 0.93 }",
    );
    expect(p.env.recorded).toEqual([]);
  });
});

describe('versioned', () => {
  const e = (extra: Partial<DatasetIR> = {}) => entry('vocab', 'json', { path: 'data/vocab.json', versioned: true, ...extra });

  it('saves each run under <path>/<version>/<basename> and loads the latest', async () => {
    await createDataset(e(), { ...p.env, saveVersion: '2024-01-01T00.00.00.000Z' }).save({ v: 1 });
    await createDataset(e(), { ...p.env, saveVersion: '2024-03-01T00.00.00.000Z' }).save({ v: 3 });
    await createDataset(e(), { ...p.env, saveVersion: '2024-02-01T00.00.00.000Z' }).save({ v: 2 });
    expect(readdirSync(path.join(p.root, 'data/vocab.json')).sort()).toEqual(['2024-01-01T00.00.00.000Z', '2024-02-01T00.00.00.000Z', '2024-03-01T00.00.00.000Z']);
    expect(read('data/vocab.json/2024-02-01T00.00.00.000Z/vocab.json')).toBe('{\n  "v": 2\n}\n');
    const ds = createDataset(e(), p.env);
    expect(await ds.load()).toEqual({ v: 3 });
    expect(await ds.files()).toEqual([path.join(p.root, 'data/vocab.json/2024-03-01T00.00.00.000Z/vocab.json')]);
    expect(ds.describe()).toEqual({ name: 'vocab', type: 'json', path: 'data/vocab.json', versioned: true, version: { load: null, save: p.env.saveVersion }, options: {} });
  });

  it('after a save, an unpinned load reads that save even when a newer-named version exists', async () => {
    await createDataset(e(), { ...p.env, saveVersion: '2099-01-01T00.00.00.000Z' }).save({ v: 'from a clock ahead' });
    const ds = createDataset(e(), p.env);
    expect(await ds.load()).toEqual({ v: 'from a clock ahead' });
    await ds.save({ v: 'this run' });
    expect(await ds.load()).toEqual({ v: 'this run' });
    expect(await ds.files()).toEqual([path.join(p.root, 'data/vocab.json', p.env.saveVersion, 'vocab.json')]);
  });

  it('loads a pinned version; an unknown one is KILN3103 with suggestions and the list', async () => {
    for (const v of ['2024-01-01T00.00.00.000Z', '2024-01-02T00.00.00.000Z']) await createDataset(e(), { ...p.env, saveVersion: v }).save({ v });
    expect(await createDataset(e(), { ...p.env, loadVersion: '2024-01-01T00.00.00.000Z' }).load()).toEqual({ v: '2024-01-01T00.00.00.000Z' });
    const pinned = createDataset(e(), { ...p.env, loadVersion: '2024-01-03T00.00.00.000Z' });
    expect(await pinned.exists()).toBe(false);
    const r = await codesOf(() => pinned.load());
    expect(r.codes).toEqual(['KILN3103']);
    expect(r.messages[0]).toBe("dataset 'vocab' has no saved version '2024-01-03T00.00.00.000Z'. did you mean '2024-01-01T00.00.00.000Z' or '2024-01-02T00.00.00.000Z'?");
    expect(r.hints[0]).toBe('Saved versions, newest first: 2024-01-02T00.00.00.000Z, 2024-01-01T00.00.00.000Z.');
    // A pinned name cannot reach outside the version folders.
    expect((await codesOf(() => createDataset(e(), { ...p.env, loadVersion: '../..' }).load())).codes).toEqual(['KILN3103']);
  });

  it('skips version folders without a complete save; with none, load is KILN3102', async () => {
    const ds = createDataset(e(), p.env);
    mkdirSync(path.join(p.root, 'data/vocab.json/2025-01-01T00.00.00.000Z'), { recursive: true });
    expect(await ds.exists()).toBe(false);
    const r = await codesOf(() => ds.load());
    expect(r.codes).toEqual(['KILN3102']);
    expect(r.messages[0]).toBe("dataset 'vocab' has nothing to load: no version of it was saved under data/vocab.json/");
    await ds.save({ ok: true });
    expect(await ds.load()).toEqual({ ok: true });
  });

  it('works for every file type', async () => {
    const cases: Array<[DatasetIR, unknown]> = [
      [entry('a', 'jsonl', { path: 'v/a.jsonl', versioned: true }), [{ x: 1 }]],
      [entry('b', 'csv', { path: 'v/b.csv', versioned: true }), [{ x: '1' }]],
      [entry('c', 'text', { path: 'v/c.txt', versioned: true }), 'hi'],
      [entry('d', 'binary', { path: 'v/d.bin', versioned: true }), new Uint8Array([1])],
      [entry('e', 'metrics', { path: 'v/e.json', versioned: true }), { m: 1 }],
      [entry('f', 'partitioned', { path: 'v/f', versioned: true, options: { dataset: 'json', suffix: '.json' } }), { p1: { x: 1 } }],
    ];
    for (const [en, value] of cases) {
      await createDataset(en, p.env).save(value);
      const loaded = await createDataset(en, { ...p.env, saveVersion: 'later' }).load();
      const resolved = en.type === 'partitioned' ? { p1: await (loaded as Record<string, () => Promise<unknown>>).p1() } : loaded;
      expect(resolved, en.type).toEqual(value);
      const base = path.basename(en.path!);
      expect(readdirSync(path.join(p.root, en.path!, p.env.saveVersion)), en.type).toEqual([base]);
    }
  });

  it('turning versioning on or off over existing data is KILN3111, on load and on save', async () => {
    await createDataset(e(), p.env).save({ v: 1 });
    const unversioned = createDataset(e({ versioned: false }), p.env);
    for (const op of [() => unversioned.load(), () => unversioned.save({ v: 2 })]) {
      const r = await codesOf(op);
      expect(r.codes).toEqual(['KILN3111']);
      expect(r.messages[0]).toBe("path 'data/vocab.json' of dataset 'vocab' is a folder, but a json dataset is a single file (a folder of versions there means the entry was versioned)");
    }
    await createDataset(entry('t', 'text', { path: 't.txt' }), p.env).save('plain');
    const r = await codesOf(() => createDataset(entry('t', 'text', { path: 't.txt', versioned: true }), p.env).save('x'));
    expect(r.messages[0]).toBe("path 't.txt' of dataset 't' is a file, but a versioned dataset keeps a folder of versions there (t.txt/<version>/t.txt)");
    expect(read('t.txt')).toBe('plain');
    writeFileSync(path.join(p.root, 'model'), 'not a folder');
    expect((await codesOf(() => createDataset(entry('m', 'tfjs_model', { path: 'model' }), p.env).load())).codes).toEqual(['KILN3111']);
  });

  it('memory datasets and metrics without a path cannot be versioned (KILN3109)', async () => {
    for (const en of [entry('m', 'memory', { versioned: true }), entry('n', 'metrics', { versioned: true })]) {
      const r = await codesOf(() => createDataset(en, p.env));
      expect(r.codes).toEqual(['KILN3109']);
      expect(r.messages[0]).toBe(`${en.type} dataset '${en.name}' cannot be versioned`);
    }
  });
});

describe('catalog entry mistakes', () => {
  it('a file type without a path is KILN3101', async () => {
    const r = await codesOf(() => createDataset(entry('vocabulary', 'json'), p.env));
    expect(r.codes).toEqual(['KILN3101']);
    expect(r.messages[0]).toBe("json dataset 'vocabulary' has no path");
  });

  it('unknown options are KILN3106 with a suggestion; bad values KILN3107; all reported at once', async () => {
    const r = await codesOf(() => createDataset(entry('c', 'csv', { path: 'c.csv', options: { delimeter: ';', header: 'yes' } }), p.env));
    expect(r.codes).toEqual(['KILN3106', 'KILN3107']);
    expect(r.messages[0]).toBe("unknown option 'delimeter' for csv dataset 'c'. did you mean 'delimiter'?");
    expect(r.hints[0]).toBe('Options of csv datasets: delimiter, header.');
    expect(r.messages[1]).toBe("option 'header' of dataset 'c' must be true or false");
    for (const [type, options] of [
      ['json', { indent: 9 }],
      ['csv', { delimiter: ';;' }],
      ['metrics', { prefix: 3 }],
    ] as Array<[DatasetIR['type'], Record<string, JsonValue>]>) {
      expect((await codesOf(() => createDataset(entry('x', type, { path: 'x', options }), p.env))).codes).toEqual(['KILN3107']);
    }
    expect((await codesOf(() => createDataset(entry('t', 'text', { path: 't', options: { indent: 2 } }), p.env))).hints[0]).toBe('Options of text datasets: (none).');
  });

  it('a file that is missing is KILN3102 naming the path', async () => {
    const r = await codesOf(() => createDataset(entry('raw_emails', 'jsonl', { path: 'data/raw/emails.jsonl' }), p.env).load());
    expect(r.codes).toEqual(['KILN3102']);
    expect(r.messages[0]).toBe("dataset 'raw_emails' has nothing to load: data/raw/emails.jsonl does not exist");
  });

  it('content that does not parse is KILN3105 naming the file and line', async () => {
    writeFileSync(path.join(p.root, 'l.jsonl'), '{"a":1}\n\n{"a":2,}\n');
    const r = await codesOf(() => make(entry('l', 'jsonl', { path: 'l.jsonl' })).load());
    expect(r.codes).toEqual(['KILN3105']);
    expect(r.messages[0]).toMatch(/^l\.jsonl line 3: dataset 'l' cannot be read as jsonl: .*JSON/);
    writeFileSync(path.join(p.root, 'j.json'), '{"a":');
    expect((await codesOf(() => make(entry('j', 'json', { path: 'j.json' })).load())).messages[0]).toMatch(/^j\.json: dataset 'j' cannot be read as json: /);
    writeFileSync(path.join(p.root, 'm.json'), '{"a":"x"}');
    expect((await codesOf(() => make(entry('m', 'metrics', { path: 'm.json' })).load())).messages[0]).toBe("m.json: dataset 'm' cannot be read as metrics: metric 'a' is a string, not a number");
  });

  it.each<[DatasetIR, unknown, string]>([
    [entry('l', 'jsonl', { path: 'l.jsonl' }), { not: 'an array' }, "jsonl dataset 'l' cannot save an object: it expects an array of records"],
    [entry('c', 'csv', { path: 'c.csv' }), [{ a: 1 }, 'row'], "csv dataset 'c' cannot save a string: it expects records that are objects (record 2)"],
    [entry('t', 'text', { path: 't.txt' }), 42, "text dataset 't' cannot save a number: it expects a string"],
    [entry('b', 'binary', { path: 'b.bin' }), 'bytes?', "binary dataset 'b' cannot save a string: it expects a Uint8Array (or another view of bytes)"],
    [entry('j', 'json', { path: 'j.json' }), undefined, "json dataset 'j' cannot save undefined: it expects a value JSON can hold"],
  ])('saving the wrong kind of value is KILN3108 (%#)', async (en, value, message) => {
    const r = await codesOf(() => make(en).save(value));
    expect(r.codes).toEqual(['KILN3108']);
    expect(r.messages[0]).toBe(message);
    expect(readdirSync(p.root)).toEqual([]);
  });

  it('describe gives the catalog view, without absolute paths', () => {
    const d = make(entry('c', 'csv', { path: 'data/c.csv', options: { delimiter: ';' }, schema: 'schemas/c.json' })).describe();
    expect(d).toEqual({ name: 'c', type: 'csv', path: 'data/c.csv', versioned: false, options: { delimiter: ';' }, schema: 'schemas/c.json' });
  });
});
