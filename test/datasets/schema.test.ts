// Record validation on load: what a failure says, and what validating costs.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDataset, type Dataset } from '../../src/runtime/datasets/index.ts';
import { recordCheck } from '../../src/runtime/datasets/schema.ts';
import { codesOf, entry, tempProject, type TestProject } from './helpers.ts';

let p: TestProject;
beforeEach(() => {
  p = tempProject();
});
afterEach(() => p.cleanup());

export const emailSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://example.com/email.schema.json',
  type: 'object',
  required: ['id', 'subject', 'from', 'body', 'label'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', pattern: '^m[0-9]+$' },
    subject: { type: 'string' },
    from: { type: 'string', format: 'email' },
    received: { type: 'string', format: 'date-time' },
    body: { type: 'string' },
    label: { enum: ['spam', 'ham'] },
    meta: { type: 'object', properties: { lang: { type: 'string' }, words: { type: 'integer', minimum: 0 } }, required: ['words'] },
  },
};

export function email(i: number, bodyBytes = 5000) {
  return {
    id: `m${i}`,
    subject: `Subject number ${i}`,
    from: `user${i}@example.com`,
    received: '2024-05-01T12:30:05Z',
    body: `word${i} `.repeat(Math.ceil(bodyBytes / `word${i} `.length)).slice(0, bodyBytes),
    label: i % 3 === 0 ? 'spam' : 'ham',
    meta: { lang: 'en', words: 800 },
  };
}

const jsonl = (extra = {}) => createDataset(entry('raw_emails', 'jsonl', { path: 'data/emails.jsonl', schema: 'schemas/email.schema.json', schemaJson: emailSchema, ...extra }), p.env) as Dataset<unknown[]>;

describe('record validation on load', () => {
  it.each<[string, (r: Record<string, unknown>) => void, string]>([
    ['a wrong type', (r) => (r.subject = 42), "field '/subject' must be string"],
    ['a missing field', (r) => delete r.label, "field '/label' is required but missing"],
    ['an extra field', (r) => (r.spam_score = 1), "field '/spam_score' is not allowed by the schema (additionalProperties is false)"],
    ['a value outside the enum', (r) => (r.label = 'junk'), 'field \'/label\' must be one of "spam", "ham"'],
    ['a bad format', (r) => (r.from = 'not-an-address'), 'field \'/from\' must match format "email"'],
    ['a nested field', (r) => ((r.meta as Record<string, unknown>).words = -1), "field '/meta/words' must be >= 0"],
  ])('jsonl: %s names the file, line, record and field', async (_name, spoil, says) => {
    const records = [email(1), email(2), email(3)];
    spoil(records[2] as Record<string, unknown>);
    // A blank line before the bad record: the line number counts it, the record number does not.
    writeFileSync(path.join(p.root, 'data.jsonl'), `${JSON.stringify(records[0])}\n${JSON.stringify(records[1])}\n\n${JSON.stringify(records[2])}\n`);
    const r = await codesOf(() => jsonl({ path: 'data.jsonl' }).load());
    expect(r.codes).toEqual(['KILN3104']);
    expect(r.messages[0]).toBe(`data.jsonl line 4: record 3 of dataset 'raw_emails' does not match its schema: ${says}`);
    expect(r.hints[0]).toBe('Fix the data, or the schema in schemas/email.schema.json; records are checked against it when the dataset is loaded.');
  });

  it('json: the schema checks the whole value', async () => {
    const ds = createDataset(entry('vocabulary', 'json', { path: 'v.json', schemaJson: { type: 'object', additionalProperties: { type: 'integer' } } }), p.env);
    await ds.save({ free: 1, money: 2 });
    expect(await ds.load()).toEqual({ free: 1, money: 2 });
    await ds.save({ free: 1, money: 'two' });
    const r = await codesOf(() => ds.load());
    expect(r.messages[0]).toBe("v.json: record 1 of dataset 'vocabulary' does not match its schema: field '/money' must be integer");
  });

  it('the record itself being wrong is said so', async () => {
    writeFileSync(path.join(p.root, 'l.jsonl'), '[1,2]\n');
    const r = await codesOf(() => jsonl({ path: 'l.jsonl' }).load());
    expect(r.messages[0]).toBe("l.jsonl line 1: record 1 of dataset 'raw_emails' does not match its schema: the record must be object");
  });

  it('schemas of draft-07 and 2020-12 work, and two datasets may share an $id', async () => {
    const draft7 = { $schema: 'http://json-schema.org/draft-07/schema#', $id: 'https://example.com/email.schema.json', type: 'object', required: ['id'] };
    writeFileSync(path.join(p.root, 'l.jsonl'), '{"id":"m1"}\n{}\n');
    const a = createDataset(entry('a', 'jsonl', { path: 'l.jsonl', schemaJson: draft7 }), p.env);
    expect((await codesOf(() => a.load())).messages[0]).toContain("record 2 of dataset 'a' does not match its schema: field '/id' is required but missing");
    // Same $id as emailSchema, compiled in the same process: no "already exists" clash.
    expect((await codesOf(() => jsonl({ path: 'l.jsonl' }).load())).codes).toEqual(['KILN3104']);
  });

  it('a schema that does not compile is KILN1012', async () => {
    const r = await codesOf(() => createDataset(entry('a', 'jsonl', { path: 'l.jsonl', schema: 's.json', schemaJson: { type: 'no-such-type' } }), p.env));
    expect(r.codes).toEqual(['KILN1012']);
    expect(r.messages[0]).toMatch(/^record schema 's.json' of dataset 'a' cannot be used: /);
  });

  it('validates 6,000 records of ~5 KB and round-trips ~30 MB of jsonl (timings printed, not asserted)', async () => {
    const records = Array.from({ length: 6000 }, (_, i) => email(i));
    const check = recordCheck(entry('x', 'jsonl'), emailSchema);
    for (const r of records.slice(0, 200)) check(r); // warm up the compiled function
    let failures = 0;
    const t0 = performance.now();
    for (const r of records) if (check(r) !== null) failures++;
    const validateMs = performance.now() - t0;
    expect(failures).toBe(0);

    const ds = jsonl();
    const t1 = performance.now();
    await ds.save(records);
    const saveMs = performance.now() - t1;
    const t2 = performance.now();
    const loaded = await ds.load();
    const loadMs = performance.now() - t2;
    const noSchema = createDataset(entry('raw', 'jsonl', { path: 'data/emails.jsonl' }), p.env);
    const t3 = performance.now();
    await noSchema.load();
    const loadNoSchemaMs = performance.now() - t3;
    expect(loaded).toEqual(records);
    const mb = (await import('node:fs')).statSync(path.join(p.root, 'data/emails.jsonl')).size / 1e6;
    console.log(JSON.stringify({ records: 6000, fileMB: +mb.toFixed(1), validateMs: +validateMs.toFixed(1), saveMs: +saveMs.toFixed(0), loadMs: +loadMs.toFixed(0), loadNoSchemaMs: +loadNoSchemaMs.toFixed(0) }));
    expect(mb).toBeGreaterThan(29);
    // The figures above are for reading (and for bench/); speed is not asserted in a test on a shared machine.
  });
});
