import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDataset, type Dataset, type PartitionLoaders, type PartitionValues } from '../../src/runtime/datasets/index.ts';
import type { DatasetIR } from '../../src/ir/types.ts';
import { codesOf, entry, tempProject, type TestProject } from './helpers.ts';

let p: TestProject;
beforeEach(() => {
  p = tempProject();
});
afterEach(() => p.cleanup());

const part = (options: DatasetIR['options'], extra: Partial<DatasetIR> = {}) =>
  createDataset(entry('emails', 'partitioned', { path: 'data/emails', options, ...extra }), p.env) as Dataset<PartitionLoaders | PartitionValues>;

describe('partitioned', () => {
  it('loads lazily: one loader per file, ids without the suffix, nothing read until called', async () => {
    const dir = path.join(p.root, 'data/emails');
    mkdirSync(path.join(dir, '2024/01'), { recursive: true });
    writeFileSync(path.join(dir, 'a.json'), '{"n":1}');
    writeFileSync(path.join(dir, '2024/01/b.json'), '{"n":2}');
    writeFileSync(path.join(dir, 'broken.json'), '{not json');
    writeFileSync(path.join(dir, 'notes.txt'), 'not a partition');
    writeFileSync(path.join(dir, '.hidden.json'), '{}');
    const ds = part({ dataset: 'json', suffix: '.json' });
    const loaders = (await ds.load()) as PartitionLoaders;
    expect(Object.keys(loaders)).toEqual(['2024/01/b', 'a', 'broken']);
    // The broken partition did not fail the load: it is only read when its loader is called.
    expect(await loaders.a()).toEqual({ n: 1 });
    expect(await loaders['2024/01/b']()).toEqual({ n: 2 });
    const r = await codesOf(() => loaders.broken());
    expect(r.codes).toEqual(['KILN3105']);
    expect(r.messages[0]).toMatch(/^data\/emails\/broken\.json: dataset 'emails' cannot be read as json/);
    // Each call reads the file again (nothing is cached in the dataset).
    writeFileSync(path.join(dir, 'a.json'), '{"n":10}');
    expect(await loaders.a()).toEqual({ n: 10 });
    expect(await ds.files()).toEqual(['2024/01/b.json', 'a.json', 'broken.json'].map((f) => path.join(dir, f)));
  });

  it('saves values and lazy savers, replacing the whole folder, and round trips', async () => {
    const ds = part({ dataset: 'jsonl', suffix: '.jsonl' });
    await ds.save({ old: [{ x: 0 }] });
    const calls: string[] = [];
    const value: PartitionValues = {
      'train/part-0': [{ x: 1 }],
      'train/part-1': () => (calls.push('part-1'), [{ x: 2 }]),
      test: async () => (calls.push('test'), [{ x: 3 }, { x: 4 }]),
    };
    await ds.save(value);
    expect(calls.sort()).toEqual(['part-1', 'test']);
    const dir = path.join(p.root, 'data/emails');
    expect(readdirSync(dir).sort()).toEqual(['test.jsonl', 'train']);
    expect(readFileSync(path.join(dir, 'test.jsonl'), 'utf8')).toBe('{"x":3}\n{"x":4}\n');
    const loaded = (await ds.load()) as PartitionLoaders;
    expect(Object.keys(loaded)).toEqual(['test', 'train/part-0', 'train/part-1']);
    expect(await Promise.all(Object.values(loaded).map((f) => f()))).toEqual([[{ x: 3 }, { x: 4 }], [{ x: 1 }], [{ x: 2 }]]);
  });

  it('a failing lazy saver leaves the previous partitions untouched', async () => {
    const ds = part({ dataset: 'text', suffix: '.txt' });
    await ds.save({ a: 'one' });
    await expect(ds.save({ b: 'two', c: () => Promise.reject(new Error('producer failed')) })).rejects.toThrow('producer failed');
    const loaded = (await ds.load()) as PartitionLoaders;
    expect(Object.keys(loaded)).toEqual(['a']);
    expect(readdirSync(path.join(p.root, 'data')).sort()).toEqual(['emails']);
  });

  it('passes its file-type options to each partition (csv delimiter) and the schema to each record', async () => {
    const schemaJson = { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] };
    const ds = part({ dataset: 'csv', suffix: '.csv', delimiter: ';' }, { schemaJson, schema: 'schemas/row.json' });
    await ds.save({ a: [{ id: 1, s: 'x;y' }] });
    expect(readFileSync(path.join(p.root, 'data/emails/a.csv'), 'utf8')).toBe('id;s\n1;"x;y"\n');
    const loaders = (await ds.load()) as PartitionLoaders;
    expect(await loaders.a()).toEqual([{ id: 1, s: 'x;y' }]);
    writeFileSync(path.join(p.root, 'data/emails/b.csv'), 'id;s\n2;ok\nnope;bad\n');
    const r = await codesOf(async () => ((await ds.load()) as PartitionLoaders).b());
    expect(r.codes).toEqual(['KILN3104']);
    expect(r.messages[0]).toBe("data/emails/b.csv line 3: record 2 (data row) of dataset 'emails' does not match its schema: field '/id' must be integer");
  });

  it('binary partitions without a suffix take every file; symbolic links are not partitions', async () => {
    const ds = part({ dataset: 'binary' });
    await ds.save({ 'img/1.png': new Uint8Array([1]), 'img/2.png': new Uint8Array([2, 2]) });
    symlinkSync('/etc/hostname', path.join(p.root, 'data/emails/img/link.png'));
    const loaders = (await ds.load()) as PartitionLoaders;
    expect(Object.keys(loaders)).toEqual(['img/1.png', 'img/2.png']);
    expect(await loaders['img/2.png']()).toEqual(new Uint8Array([2, 2]));
  });

  it('an empty folder loads as no partitions; a missing one is KILN3102', async () => {
    const ds = part({ dataset: 'json', suffix: '.json' });
    expect((await codesOf(() => ds.load())).codes).toEqual(['KILN3102']);
    await ds.save({});
    expect(await ds.exists()).toBe(true);
    expect(await ds.load()).toEqual({});
  });

  it.each(['../escape', '/abs', 'a//b', '.hidden', 'a/./b', 'a/../b', 'a\\b', '', 'tab\there'])('refuses the partition id %j (KILN3110)', async (id) => {
    const r = await codesOf(() => part({ dataset: 'text' }).save({ [id]: 'x' }));
    expect(r.codes).toEqual(['KILN3110']);
    expect(r.messages[0]).toBe(`partition id '${id}' of dataset 'emails' is not a safe relative file name`);
  });

  it('checks its options: the partition type is required, and only its options are accepted', async () => {
    const missing = await codesOf(() => part({ suffix: '.json' }));
    expect(missing.codes).toEqual(['KILN3107']);
    expect(missing.messages[0]).toBe("option 'dataset' of dataset 'emails' must be one of json, jsonl, csv, text, binary");
    expect((await codesOf(() => part({ dataset: 'tfjs_model' }))).codes).toEqual(['KILN3107']);
    const wrong = await codesOf(() => part({ dataset: 'json', delimiter: ';' }));
    expect(wrong.codes).toEqual(['KILN3106']);
    expect(wrong.hints[0]).toBe('Options of partitioned (json) datasets: dataset, suffix, indent.');
    expect((await codesOf(() => part({ dataset: 'json' }).save([{ a: 1 }] as unknown as PartitionValues))).codes).toEqual(['KILN3108']);
  });
});
