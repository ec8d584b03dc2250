import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filterToSql, parseFilter } from '../../src/tracking/filter.ts';
import type { Tracking } from '../../src/tracking/index.ts';
import { storeBackends, type StoreBackend } from './backends.ts';
import { diagnosticOf, newRun } from './helpers.ts';

const C1 = '1'.repeat(40);
const C2 = 'abcdef0'.padEnd(40, '9');

/** Four runs to search, in a store of `backend` for the whole describe: searches only read it. */
function searchable(backend: StoreBackend) {
  let t: Tracking;
  let dir: string;
  const ids: Record<string, string> = {};
  afterAll(() => {
    t.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-filter-'));
    t = await backend.fileStore(path.join(dir, '.kiln'));
    const make = async (name: string, o: { pipeline?: string; branch?: string | null; commit?: string | null; dirty?: boolean; params: Record<string, unknown>; metrics: Record<string, number>; status?: 'FINISHED' | 'FAILED'; tags?: Record<string, string> }) => {
      const run = await t.runs.createRun(
        newRun({
          pipeline: o.pipeline ?? 'spam',
          git: { root: '/r', commit: o.commit === undefined ? C1 : o.commit, branch: o.branch === undefined ? 'main' : o.branch, dirty: o.commit === null ? null : (o.dirty ?? false), uncommitted: [], diffHash: null },
          params: o.params,
          tags: o.tags,
        }),
      );
      if (Object.keys(o.metrics).length) await t.runs.logMetrics(run.id, o.metrics);
      if (o.status) await t.runs.finishRun(run.id, { status: o.status });
      ids[name] = run.id;
    };
    await make('a', { params: { seed: 1, split: { test_ratio: 0.2 }, optimizer: 'adam', use_bias: true }, metrics: { accuracy: 0.95, loss: 0.1 }, status: 'FINISHED', tags: { owner: 'ana' } });
    await make('b', { branch: 'feature/x', dirty: true, commit: C2, params: { seed: 2, split: { test_ratio: 0.3 }, optimizer: 'sgd' }, metrics: { accuracy: 0.85, loss: 0.3 }, status: 'FINISHED' });
    await make('c', { pipeline: 'other', params: { seed: 1, optimizer: 'Adam' }, metrics: { accuracy: 0.91 }, status: 'FAILED', tags: { owner: 'bo' } });
    await make('d', { branch: null, commit: null, params: { seed: 3 }, metrics: {} });
  });
  return async (filter: string) => {
    const found = await t.runs.searchRuns(filter);
    const byId = Object.fromEntries(Object.entries(ids).map(([n, id]) => [id, n]));
    return found.map((r) => byId[r.id]).sort();
  };
}

describe.each(storeBackends)('run filter: search on $name', (backend) => {
  const names = searchable(backend);
  const cases: Array<[string, string[]]> = [
    ['', ['a', 'b', 'c', 'd']],
    ['metrics.accuracy > 0.9', ['a', 'c']],
    ['metrics.accuracy >= 0.95', ['a']],
    ['metrics.accuracy < 0.9 or metrics.loss <= 0.1', ['a', 'b']],
    ['metrics.accuracy != 0.95', ['b', 'c']],
    ['metrics.loss = 0.3', ['b']],
    ['params.seed = 1', ['a', 'c']],
    ["params.seed = '1'", ['a', 'c']],
    ['params.split.test_ratio > 0.25', ['b']],
    ["params.optimizer = 'adam'", ['a']],
    ["params.optimizer LIKE 'Ad%'", ['c']],
    ["params.optimizer ILIKE 'ad%'", ['a', 'c']],
    ['params.use_bias = true', ['a']],
    ["tags.branch = 'main'", ['a', 'c']],
    ["tags.branch LIKE 'feature/%'", ['b']],
    ["tags.dirty = 'true'", ['b']],
    ['tags.dirty = false', ['a', 'c']],
    ["tags.commit LIKE 'abcdef0%'", ['b']],
    ["tags.owner = 'ana'", ['a']],
    ["attributes.status = 'FINISHED'", ['a', 'b']],
    ["status = 'running'", ['d']],
    ["run.status != 'FINISHED'", ['c', 'd']],
    ["pipeline = 'other'", ['c']],
    [`commit = '${C1}'`, ['a', 'c']],
    ["branch = 'main' and metrics.accuracy > 0.9 and params.seed = 1 and tags.branch = 'main'", ['a', 'c']],
    ["(pipeline = 'other' or params.seed = 2) and metrics.accuracy > 0.8", ['b', 'c']],
    ["pipeline = 'spam' and (metrics.accuracy > 0.9 or params.seed = 3)", ['a', 'd']],
    ['METRICS.accuracy > 0.9 AND params.seed = 1', ['a', 'c']],
    ['metrics.`accuracy` > 0.9 and params."seed" = 1', ['a', 'c']],
    ['start_time > 0', ['a', 'b', 'c', 'd']],
    ['metrics.missing > 0', []],
  ];
  for (const [filter, want] of cases) {
    it(`${filter || '(empty)'} → ${want.join(', ') || 'nothing'}`, async () => {
      expect(await names(filter)).toEqual(want);
    });
  }
});

describe.each(storeBackends)('run filter: errors on $name', (backend) => {
  const names = searchable(backend);
  const errors: Array<[string, string, number, string]> = [
    ['metrics.x > 1; drop table runs', 'KILN4005', 14, "unexpected character ';'"],
    ['metrics.accuracy >', 'KILN4005', 19, 'expected a value'],
    ['metrics.accuracy 0.9', 'KILN4005', 18, 'expected a comparison'],
    ["params.optimizer = 'adam", 'KILN4005', 20, 'unterminated string'],
    ['metrics.accuracy > 0.9 params.seed = 1', 'KILN4005', 24, "expected 'and', 'or'"],
    ['(metrics.accuracy > 0.9', 'KILN4005', 1, 'never closed'],
    ['and metrics.a > 1', 'KILN4005', 1, 'expected a field'],
    ["metrics.accuracy = 'high'", 'KILN4005', 20, 'holds numbers'],
    ["metrics.accuracy LIKE 0.9", 'KILN4005', 23, 'holds numbers'],
    ['metrics. > 1', 'KILN4005', 1, 'names no key'],
    ['metrics.a > 12abc', 'KILN4005', 13, 'is not a number'],
    ['metricz.accuracy > 0.9', 'KILN4006', 1, "Did you mean 'metric'"],
    ["attributes.stauts = 'FINISHED'", 'KILN4006', 1, "Did you mean 'status'"],
    ['accuracy > 0.9', 'KILN4006', 1, 'metrics.accuracy'],
  ];
  for (const [filter, code, column, text] of errors) {
    it(`${filter} → ${code} at column ${column}`, async () => {
      const d = await diagnosticOf(() => names(filter));
      expect(d.code).toBe(code);
      expect(d.message).toContain(`column ${column}`);
      expect(d.message).toContain(text);
      // The filter is shown with a caret under the column.
      const [shown, caret] = d.detail!.split('\n');
      expect(shown).toBe(filter);
      expect(caret.indexOf('^')).toBe(column - 1);
    });
  }

  it('binds every value: a quote in a string cannot end it and run SQL', async () => {
    const evil = "params.optimizer = 'x'' OR 1=1; DROP TABLE runs; --'";
    const sql = filterToSql(evil);
    expect(sql.where).not.toMatch(/DROP|1=1/i);
    expect(sql.params).toContain("x' OR 1=1; DROP TABLE runs; --");
    expect(await names(evil)).toEqual([]);
    expect(await names('')).toHaveLength(4);
  });

  it('keeps keys out of the SQL text too', () => {
    const sql = filterToSql("metrics.`a') OR 1=1 --` > 0 and params.\"b; DROP\" = 1 and tags.`x'` = 'y'");
    expect(sql.where).not.toMatch(/DROP|1=1/);
    expect(sql.params).toEqual(["a') OR 1=1 --", 0, 'b; DROP', 1, "x'", 'y']);
  });

  it('speaks PostgreSQL with numbered parameters: values and keys bound, numbers as double precision, LIKE escaped', () => {
    const sql = filterToSql("metrics.`a') OR 1=1 --` > 0 and params.optimizer LIKE 'a\\b%' and tags.`x'` ILIKE 'y_'", 'postgres', 3);
    expect(sql.where).not.toMatch(/DROP|1=1|\?/);
    expect(sql.where).toContain('m.key = $3 AND m.value > $4::double precision');
    expect(sql.where).toContain('p.value_text LIKE $6');
    expect(sql.where).toContain('t.value ILIKE $8');
    // A backslash is literal in our LIKE; PostgreSQL's LIKE reads it as an escape, so it is doubled.
    expect(sql.params).toEqual(["a') OR 1=1 --", 0, 'optimizer', 'a\\\\b%', "x'", 'y_']);
    expect(filterToSql('', 'postgres').where).toBe('TRUE');
  });

  it('parses precedence: and binds tighter than or', () => {
    const e = parseFilter('status = 1 or status = 2 and status = 3');
    expect(e?.kind).toBe('or');
    expect(e?.kind === 'or' && e.right.kind).toBe('and');
  });
});
