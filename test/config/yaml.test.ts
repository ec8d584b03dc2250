// Parsing declaration files: positions, duplicate keys, unknown aliases, the size limit, alias bombs, and plain
// values that are safe to use as data.
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { Document, parseDocument, visit } from 'yaml';
import { parseYamlFile, expandedSize, expansionLowerBound, MAX_EXPANDED_NODES } from '../../src/config/yaml.ts';
import { repoRoot } from '../helpers/project.ts';

const summary = (text: string, limits?: Parameters<typeof parseYamlFile>[2]) =>
  parseYamlFile('f.yaml', text, limits).diagnostics.map((d) => `${d.location?.line}:${d.location?.column}-${d.location?.endLine}:${d.location?.endColumn} ${d.code} ${d.message}`);

/** The classic "billion laughs": each level a list of ten aliases of the level before, grown to about `bytes`. */
function billionLaughs(bytes: number, width = 10): string {
  let text = `lol0: &lol0 [${Array(width).fill('lol').join(', ')}]\n`;
  for (let i = 1; text.length < bytes; i++) text += `lol${i}: &lol${i} [${Array(width).fill(`*lol${i - 1}`).join(', ')}]\n`;
  return text;
}

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Time and heap growth of `fn`; the heap is collected first, so growth counts what `fn` allocated (and kept until now). */
function measure<T>(fn: () => T): { result: T; ms: number; heapMb: number } {
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const result = fn();
  const ms = performance.now() - t0;
  return { result, ms, heapMb: (process.memoryUsage().heapUsed - heap0) / 1024 / 1024 };
}

describe('parseYamlFile', () => {
  it.each([
    ['a duplicate key, pointing at the second and naming the line of the first', 'a: 1\nb:\n  c: 1\n  c: 2\n', ["4:3-4:4 KILN1002 duplicate key 'c'"]],
    ['duplicate keys in a list of mappings', '- {x: 1, x: 2}\n- y: 1\n  y: 1\n', ["1:10-1:11 KILN1002 duplicate key 'x'", "3:3-3:4 KILN1002 duplicate key 'y'"]],
    ['an alias with no anchor before it', 'a: *later\nb: &later 1\n', ['1:4-1:10 KILN1001 YAML syntax error: unknown alias *later; an alias must refer to an anchor (&later) defined before it']],
    ['an unclosed quote (at the end of the file, where yaml notices)', 'a: "open\nb: 1\n', ['3:1-3:2 KILN1001 YAML syntax error: Missing closing "quote']],
    ['a tab used for indentation', 'a:\n\tb: 1\n', ['2:1-2:2 KILN1001 YAML syntax error: Tabs are not allowed as indentation']],
    ['an alias of the node that holds it (an infinite document)', 'a: &a [1, *a]\n', ['1:11-1:13 KILN1004 YAML aliases expand to more than 100000 nodes']],
  ])('reports %s', (_what, text, expected) => {
    expect(summary(text)).toEqual(expected);
  });

  it('refuses a file over the size limit before parsing it', () => {
    expect(summary('a: 1\n'.repeat(10), { maxBytes: 49, maxNodes: 100 })).toEqual(['1:1-1:1 KILN1003 file is 50 bytes, over the limit of 49 bytes']);
    expect(summary('a: 1\n'.repeat(10), { maxBytes: 50, maxNodes: 100 }).filter((d) => d.includes('KILN1003'))).toEqual([]);
  });

  it('counts the nodes aliases stand for against the limit, not the plain nodes', () => {
    const text = 'base: &b [1, 2, 3, 4]\ncopies: [*b, *b, *b]\n';
    // 3 aliases of a list of 4 = 3 * 5 = 15 (the 12 plain nodes around them are not counted)
    expect(summary(text, { maxBytes: 1000, maxNodes: 15 })).toEqual([]);
    expect(summary(text, { maxBytes: 1000, maxNodes: 14 })).toEqual(['2:10-2:12 KILN1004 YAML aliases expand to more than 14 nodes']);
    // Aliases inside an aliased node count once per expansion: 2 copies of (list + 3 aliases of 5) = 2 * 16 = 32, plus 15.
    const nested = `${text}twice: &t [*b, *b, *b]\nagain: [*t, *t]\n`;
    expect(summary(nested, { maxBytes: 1000, maxNodes: 62 })).toEqual([]);
    expect(summary(nested, { maxBytes: 1000, maxNodes: 61 })).toEqual(['2:10-2:12 KILN1004 YAML aliases expand to more than 61 nodes']);
  });

  it('accepts a large pipeline file with no aliases, or with a few small ones, far over the limit in plain nodes', () => {
    // An 11,200-node pipeline (134,400 YAML nodes) was refused as an alias bomb although it has no alias; the same
    // scaled down: 500 nodes of 12 YAML nodes each against a limit of 5,000.
    const node = (i: number) => `  - {name: n${i}, run: ./nodes.ts#step, inputs: d${i}, outputs: d${i + 1}, tags: [t]}\n`;
    const nodes = Array.from({ length: 500 }, (_, i) => node(i)).join('');
    const result = parseYamlFile('pipelines/big/pipeline.yaml', `pipeline: big\nnodes:\n${nodes}`, { maxBytes: 1_000_000, maxNodes: 5000 });
    expect(result.diagnostics).toEqual([]);
    expect((result.file.value as { nodes: unknown[] }).nodes).toHaveLength(500);
    // With one small alias per node: 6,000 plain nodes, 1,500 from aliases.
    const withAlias = `tags: &tags [a, b]\nnodes:\n${Array.from({ length: 500 }, (_, i) => node(i).replace('tags: [t]', 'tags: *tags')).join('')}`;
    expect(summary(withAlias, { maxBytes: 1_000_000, maxNodes: 1500 })).toEqual([]);
    expect(summary(withAlias, { maxBytes: 1_000_000, maxNodes: 1499 })).toEqual(['3:69-3:74 KILN1004 YAML aliases expand to more than 1499 nodes']);
  });

  it('refuses a 1 MB billion-laughs file with KILN1004 in under a second, without building the document', () => {
    const text = billionLaughs(1_000_000);
    expect(text.length).toBeGreaterThan(990_000);
    const { result, ms, heapMb } = measure(() => parseYamlFile('pipelines/parameters.yaml', text));
    expect(result.diagnostics.map((d) => d.code)).toEqual(['KILN1004']);
    expect(result.diagnostics[0].location).toMatchObject({ file: 'pipelines/parameters.yaml', line: 2, column: 14, endLine: 2, endColumn: 19 });
    expect(result.file.value).toBeUndefined();
    expect(ms).toBeLessThan(1000);
    expect(heapMb).toBeLessThan(64);
  });

  it('refuses a 1 MB bomb with fewer aliases than the node limit (long anchor names) by counting the expansion', () => {
    const name = (i: number) => `level_${String(i).padStart(3, '0')}_${'x'.repeat(40)}`;
    let text = `${name(0)}: &${name(0)} [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n`;
    for (let i = 1; text.length < 1_000_000; i++) text += `${name(i)}: &${name(i)} [${Array(50).fill(`*${name(i - 1)}`).join(', ')}]\n`;
    const { result, ms, heapMb } = measure(() => parseYamlFile('p.yaml', text));
    expect(result.diagnostics.map((d) => d.code)).toEqual(['KILN1004']);
    expect(ms).toBeLessThan(2000);
    expect(heapMb).toBeLessThan(256);
  });

  it('stays linear in the number of aliases when a file has many small ones under the limit', () => {
    // yaml's Alias.resolve scans the whole document for each alias: 30,000 aliases took minutes before.
    const text = `item: &item {id: 1}\nitems: [${Array(30_000).fill('*item').join(', ')}]\n`;
    const { result, ms } = measure(() => parseYamlFile('p.yaml', text));
    expect(result.diagnostics).toEqual([]);
    const value = result.file.value as { item: unknown; items: unknown[] };
    expect(value.items).toHaveLength(30_000);
    // Aliases share the anchored value, as yaml's toJS shares it.
    expect(value.items[29_999]).toBe(value.item);
    expect(ms).toBeLessThan(5000);
  });

  it('gives the same plain values as yaml toJS', () => {
    const text = [
      'name: demo',
      'n: 12',
      'x: 0x1F',
      'f: 1.5e3',
      'inf: .inf',
      'yes: yes',
      'on: true',
      'nothing: ~',
      '~: null key',
      '1: numeric key',
      'list: [a, "b", \'c\', 2, false, null]',
      'anchor: &a {k: [1, 2], s: text}',
      'alias: *a',
      '<<: not a merge key in YAML 1.2',
      'block: |',
      '  line one',
      '  line two',
      'nested: {a: {b: {c: [[], {}]}}}',
    ].join('\n');
    const ours = parseYamlFile('f.yaml', text).file.value;
    const theirs = parseDocument(text, { version: '1.2', schema: 'core', uniqueKeys: false }).toJS();
    expect(ours).toEqual(theirs);
    expect(JSON.stringify(ours)).toBe(JSON.stringify(theirs));
  });

  it('keeps __proto__, constructor and prototype keys as plain data', () => {
    const { file, diagnostics } = parseYamlFile('f.yaml', '__proto__: {polluted: yes}\nconstructor: {prototype: {polluted: yes}}\nlist: [{__proto__: {polluted: yes}}]\n');
    expect(diagnostics).toEqual([]);
    const v = file.value as Record<string, unknown>;
    expect(Object.keys(v)).toEqual(['__proto__', 'constructor', 'list']);
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(v, '__proto__')?.value).toEqual({ polluted: 'yes' });
    const item = (v.list as Array<Record<string, unknown>>)[0];
    expect(Object.getPrototypeOf(item)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('locates nodes with 1-based lines and columns, the end column one past the last character', () => {
    const { file } = parseYamlFile('f.yaml', 'a:\n  b: [x, yz]\n');
    expect(file.lineCounter.linePos(0)).toEqual({ line: 1, col: 1 });
    expect(summary('a:\n  b: [x, yz]\n  b: 1\n')).toEqual(["3:3-3:4 KILN1002 duplicate key 'b'"]);
  });

  it('uses a node limit far above real declarations', () => {
    expect(MAX_EXPANDED_NODES).toBe(100_000);
  });
});

/** A small deterministic random generator (mulberry32), so that a failing document can be reproduced. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random tree of mappings, lists and scalars in which some subtrees are shared (yaml writes them as anchors and aliases). */
function randomTree(next: () => number, depth: number, shared: unknown[]): unknown {
  const r = next();
  if (shared.length && r < 0.15) return shared[Math.floor(next() * shared.length)];
  if (depth === 0 || r < 0.35) {
    const scalars = ['text', 42, 1.5, true, null, 'two words', 'quote"d', "it's", '', '# not a comment', 'multi\nline'];
    return scalars[Math.floor(next() * scalars.length)];
  }
  let node: unknown;
  if (r < 0.65) node = Array.from({ length: Math.floor(next() * 4) }, () => randomTree(next, depth - 1, shared));
  else node = Object.fromEntries(Array.from({ length: Math.floor(next() * 4) }, (_, i) => [`k${i}`, randomTree(next, depth - 1, shared)]));
  if (next() < 0.3) shared.push(node);
  return node;
}

const trueSize = (text: string) => expandedSize(parseDocument(text, { version: '1.2', schema: 'core', uniqueKeys: false }), Number.MAX_SAFE_INTEGER);

describe('expansionLowerBound', () => {
  it.each([
    ['flow lists', 'base: &b [1, 2, 3, 4]\ncopies: [*b, *b, *b]\n'],
    ['a block list under an anchor', 'base: &b\n  - 1\n  - [2, 3]\ncopies:\n  - *b\n  - *b\n'],
    ['a compact list at the key\'s indentation', 'base: &b\n- 1\n- 2\ncopies: [*b, *b]\n'],
    ['anchors on keys and on empty values', '&k key: &v\nother: *k\nmore: *v\n'],
    ['a comment after the anchor', 'base: &b # the base\n  x: 1\n  y: [1, 2]\ncopy: *b\n'],
    ['an anchored block scalar', 'text: &t |\n  line 1\n  line 2\ncopies: [*t, *t]\n'],
    ['a flow mapping over several lines', 'base: &b {\n  a: 1,\n  b: [1, 2]\n  }\ncopies: [*b, *b]\n'],
    ['a redefined anchor', 'a: &x [1, 2, 3]\nb: *x\nc: &x 1\nd: [*x, *x]\n'],
    ['nested anchors', 'outer: &o\n  inner: &i [1, 2]\n  again: *i\nall: [*o, *i]\n'],
    ['tags and quoted scalars', 'a: &a !!str "quoted"\nb: &b [\'x\', "y", *a]\nc: [*b, *b]\n'],
    ['a multi-line plain scalar', 'a: &a one\n  two\nb: [*a]\n'],
    ['list items that are mappings', '- &m name: x\n  value: 1\n- *m\n- &n\n  k: [1, 2]\n- *n\n'],
    ['an anchor after two list indicators', '- - &a1\n    - {}\n  - *a1\n  - - text\n- *a1\n'],
    ['an anchor after a list indicator and a key', '- k0:\n    - k0: &a1\n        k0: x\n      k1:\n        - *a1\n  k2: *a1\n- *a1\n'],
    ['explicit keys and a document start', '--- &root\n? &k [a, b]\n: &v {x: 1}\nagain: [*k, *v]\n'],
  ])('never exceeds the real expansion: %s', (_what, text) => {
    const bound = expansionLowerBound(text, Number.MAX_SAFE_INTEGER).total;
    expect(bound).toBeGreaterThan(0);
    expect(bound).toBeLessThanOrEqual(trueSize(text));
  });

  it('never exceeds the real expansion of 300 random documents written in block and flow styles', () => {
    const next = random(20261126);
    for (let i = 0; i < 300; i++) {
      const tree = randomTree(next, 5, []);
      // Shared subtrees become anchors and aliases; some collections are written in flow style, the rest in block.
      const doc = new Document(tree);
      visit(doc, { Map: (_, node) => void (node.flow = next() < 0.3), Seq: (_, node) => void (node.flow = next() < 0.3) });
      const text = doc.toString({ indent: next() < 0.5 ? 2 : 4, indentSeq: next() < 0.5 });
      const real = trueSize(text);
      const bound = expansionLowerBound(text, Number.MAX_SAFE_INTEGER).total;
      if (bound > real) throw new Error(`lower bound ${bound} > real size ${real} for:\n${text}`);
    }
  });

  it('never exceeds the real expansion of the repository\'s own YAML files', () => {
    const files = ['pipelines', 'test/fixtures']
      .flatMap((dir) => fs.readdirSync(path.join(repoRoot, dir), { recursive: true, encoding: 'utf8' }).map((f) => path.join(repoRoot, dir, f)))
      .filter((f) => /\.ya?ml$/.test(f) && fs.statSync(f).isFile());
    expect(files.length).toBeGreaterThan(50);
    for (const file of files) {
      const text = fs.readFileSync(file, 'utf8');
      const doc = parseDocument(text, { version: '1.2', schema: 'core', uniqueKeys: false });
      if (doc.errors.length) continue;
      expect(expansionLowerBound(text, Number.MAX_SAFE_INTEGER).total, file).toBeLessThanOrEqual(expandedSize(doc, Number.MAX_SAFE_INTEGER));
    }
  });

  it('sizes a billion laughs written in block style', () => {
    let text = 'lol0: &lol0\n' + '  - lol\n'.repeat(10);
    for (let i = 1; i < 9; i++) text += `lol${i}: &lol${i}\n` + `  - *lol${i - 1}\n`.repeat(10);
    expect(expansionLowerBound(text, 100_000).total).toBeGreaterThan(100_000);
    expect(summary(text)).toEqual(['13:5-13:10 KILN1004 YAML aliases expand to more than 100000 nodes']);
  });

  it('sizes a billion laughs within its first lines', () => {
    const text = billionLaughs(1_000_000);
    const { total, firstAlias } = expansionLowerBound(text, 100_000);
    expect(total).toBeGreaterThan(100_000);
    expect(text.slice(firstAlias, firstAlias + 5)).toBe('*lol0');
  });
});
