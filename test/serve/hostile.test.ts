// Hostile request bodies over real HTTP: every per-request computation on untrusted input is bounded, so one request
// neither holds the event loop (other clients, /ping and the 504 deadline keep working) nor gets a huge answer, and
// deep nesting is a 400, not a 500.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invoke, request, start, stillServing, textLengthPredictor, type Running } from './support.ts';

describe('scoring server: hostile bodies', () => {
  let s: Running;
  beforeAll(async () => {
    s = await start(textLengthPredictor());
  });
  afterAll(() => s.scoring.close());

  it('three 1 MB unknown keys: a short 400 within seconds, not tens, and /ping answers meanwhile', async () => {
    const body = JSON.stringify(Object.fromEntries(['a', 'b', 'c'].map((c) => [c.repeat(1_000_000), 1])));
    const t0 = Date.now();
    const answer = invoke(s.url, body);
    // Sent while the big request is read and answered: it must not wait behind it.
    const ping = (async () => {
      await new Promise((r) => setTimeout(r, 50));
      const p0 = Date.now();
      const r = await request(`${s.url}/ping`);
      return { status: r.status, ms: Date.now() - p0 };
    })();
    const r = await answer;
    expect(Date.now() - t0).toBeLessThan(3_000); // 23 s before the bound (seven keys: 46 s)
    expect(r.status).toBe(400);
    expect(r.json.error_code).toBe('BAD_REQUEST');
    expect(r.text.length).toBeLessThan(1_000);
    expect(await ping).toMatchObject({ status: 200, ms: expect.any(Number) });
    expect((await ping).ms).toBeLessThan(1_000);
    await stillServing(s.url);
  });

  it('a 1 MB field name in a record: a short 400 naming the record', async () => {
    const r = await invoke(s.url, { inputs: [{ text: 'a', ['k'.repeat(1_000_000)]: 1 }] });
    expect(r.status).toBe(400);
    expect(r.json.message).toMatch(/^Failed to enforce schema of data: 1 of 1 record invalid: record 0 \(inputs\[0\]\): \/kkk/);
    expect(r.text.length).toBeLessThan(1_000);
    await stillServing(s.url);
  });

  it('1 MB column names in dataframe_split and in inputs as columns: short 400s', async () => {
    for (const body of [{ dataframe_split: { columns: ['x'.repeat(1_000_000)], data: [[1, 2]] } }, { inputs: { ['x'.repeat(1_000_000)]: 'a' } }]) {
      const r = await invoke(s.url, body);
      expect(r.status).toBe(400);
      expect(r.text.length).toBeLessThan(1_000);
    }
    await stillServing(s.url);
  });

  it('a long unknown path: a short 404', async () => {
    const r = await request(`${s.url}/${'p'.repeat(8_000)}`);
    expect(r.status).toBe(404);
    expect(r.text.length).toBeLessThan(1_000);
  });

  it('100,000 nested arrays in params: 400, not a 500 "This is a bug"', async () => {
    const r = await invoke(s.url, `{"inputs": [{"text": "a"}], "params": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ error_code: 'BAD_REQUEST', message: 'Invalid input. The body nests lists and dictionaries more than 64 levels deep (at line 1, column 102); a record is a business object, a few levels at most.' });
    await stillServing(s.url);
  });

  it('deep nesting inside a record: 400', async () => {
    const r = await invoke(s.url, `{"inputs": [{"text": ${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}]}`);
    expect(r.status).toBe(400);
    expect(r.json.error_code).toBe('BAD_REQUEST');
    await stillServing(s.url);
  });

  it('a 2 MB CSV body is parsed without holding /ping', async () => {
    const csv = 'text\n' + 'an email of some length\n'.repeat(85_000);
    const answer = invoke(s.url, csv, 'text/csv');
    await new Promise((r) => setTimeout(r, 100));
    const p0 = Date.now();
    expect((await request(`${s.url}/ping`)).status).toBe(200);
    const pingMs = Date.now() - p0;
    const r = await answer;
    expect(r.status).toBe(200);
    expect(r.json.predictions).toHaveLength(85_000);
    expect(pingMs).toBeLessThan(1_000);
  });
});
