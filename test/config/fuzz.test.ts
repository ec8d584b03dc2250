// Fuzz of the declaration loader: seeded byte-level mutations (BOMs, invalid UTF-8, control characters, NUL, CRLF
// mixes, truncation, splices) and structure-level ones (deep nesting, YAML tags, directives, anchors and aliases,
// odd keys, wrong types) of the flagship's YAML files. Each mutation is validated in-process; the only acceptable
// outcome is a list of diagnostics. A throw is a crash that a user would see as "internal error".
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeProject } from '../../src/project.ts';
import { renderDiagnostics } from '../../src/diagnostics/render.ts';
import { copyProject, repoRoot } from '../helpers/project.ts';

/** mulberry32: small, fast, and the same sequence on every machine for a seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const flagship: Record<string, string> = {};
for (const rel of ['kiln.yaml', 'pipelines/catalog.yaml', 'pipelines/parameters.yaml', 'pipelines/spam/pipeline.yaml']) {
  flagship[rel] = fs.readFileSync(path.join(repoRoot, rel), 'utf8');
}
// Node modules and schemas are read but not mutated; their text is what the checks parse.
for (const dir of ['pipelines/spam', 'pipelines/spam/schemas']) {
  for (const name of fs.readdirSync(path.join(repoRoot, dir))) {
    const rel = `${dir}/${name}`;
    if (fs.statSync(path.join(repoRoot, rel)).isFile()) flagship[rel] = fs.readFileSync(path.join(repoRoot, rel), 'utf8');
  }
}
const yamlFiles = Object.keys(flagship).filter((f) => f.endsWith('.yaml'));

const SPECIAL_BYTES = [[0xef, 0xbb, 0xbf], [0xfe, 0xff], [0xff, 0xfe], [0x00], [0x0d], [0x0d, 0x0a], [0x09], [0x1b], [0x7f], [0x85], [0xc3], [0xe2, 0x80, 0xa8], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xc0, 0xaf], [0x0c], [0x0b]];
const SNIPPETS = ['!!binary aGVsbG8=', '!!timestamp 2001-12-14', '!!js/function "x"', '!!python/object:os.system x', '%YAML 1.1\n---\n', '%TAG ! tag:x,2000:\n---\n', '---\n', '...\n', '&a ', '*a', '*nope', '<<: *a\n', '? [a, b]\n: c\n', '{', '[', '"\\u0000"', "'", '|\n', '>-\n', '~', 'null', '.nan', '-.inf', '0x1F', '1e400', '__proto__: 1\n', 'constructor: x\n', '!!set {a, b}', '!!omap [a: 1]', '!!str', '!!int x', '!local x', '#', ': ', '- ', '\t', '\u2028', '\ufeff', 'é', '😀'];

type Mutation = (text: Buffer, rnd: () => number) => Buffer;

const pick = <T>(xs: readonly T[], rnd: () => number): T => xs[Math.floor(rnd() * xs.length)];
const at = (len: number, rnd: () => number) => Math.floor(rnd() * (len + 1));
const splice = (b: Buffer, i: number, del: number, ins: Buffer) => Buffer.concat([b.subarray(0, i), ins, b.subarray(i + del)]);

const byteMutations: Mutation[] = [
  (b, r) => splice(b, at(b.length, r), 0, Buffer.from(pick(SPECIAL_BYTES, r))),
  (b, r) => splice(b, at(b.length, r), 0, Buffer.from([Math.floor(r() * 256)])),
  (b, r) => splice(b, at(b.length, r), 1, Buffer.alloc(0)),
  (b, r) => {
    const c = Buffer.from(b);
    if (c.length) c[Math.floor(r() * c.length)] ^= 1 << Math.floor(r() * 8);
    return c;
  },
  (b, r) => b.subarray(0, at(b.length, r)),
  (b) => Buffer.from(b.toString('latin1').replace(/\n/g, (m, i: number) => (i % 3 === 0 ? '\r\n' : i % 3 === 1 ? '\r' : m)), 'latin1'),
  (b) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), b]),
  (b) => Buffer.from(b.toString('utf8'), 'utf16le'),
  (b, r) => {
    const i = at(b.length, r);
    const j = at(b.length, r);
    return splice(b, i, 0, b.subarray(Math.min(i, j), Math.max(i, j)));
  },
];

const structureMutations: Mutation[] = [
  (b, r) => splice(b, at(b.length, r), 0, Buffer.from(pick(SNIPPETS, r))),
  (b, r) => {
    // A value replaced with a snippet: after a ': ' on some line.
    const t = b.toString('utf8');
    const lines = t.split('\n');
    const i = Math.floor(r() * lines.length);
    const c = lines[i].indexOf(': ');
    if (c >= 0) lines[i] = lines[i].slice(0, c + 2) + pick(SNIPPETS, r);
    return Buffer.from(lines.join('\n'));
  },
  (b, r) => {
    // Deep nesting, block or flow, at a random line.
    const depth = pick([10, 63, 65, 300, 900, 3000], r);
    const t = b.toString('utf8');
    const nest = r() < 0.5 ? `deep: ${'['.repeat(depth)}1${']'.repeat(depth)}\n` : Array.from({ length: depth }, (_, k) => `${' '.repeat(k)}k${k}:`).join('\n') + ' 1\n';
    const lines = t.split('\n');
    lines.splice(Math.floor(r() * lines.length), 0, nest);
    return Buffer.from(lines.join('\n'));
  },
  (b, r) => {
    // Re-indent a line by a random amount.
    const lines = b.toString('utf8').split('\n');
    const i = Math.floor(r() * lines.length);
    lines[i] = ' '.repeat(Math.floor(r() * 6)) + lines[i].trimStart();
    return Buffer.from(lines.join('\n'));
  },
  (b, r) => {
    // Swap two lines.
    const lines = b.toString('utf8').split('\n');
    const i = Math.floor(r() * lines.length);
    const j = Math.floor(r() * lines.length);
    [lines[i], lines[j]] = [lines[j], lines[i]];
    return Buffer.from(lines.join('\n'));
  },
  (b, r) => Buffer.from(pick(['', '# nothing\n', '   \n', '~\n', '[]\n', '"x"\n', '1\n', '- a\n', '{}\n', '!!binary aGk=\n', '!!timestamp 2001-01-01\n'], r)),
];

/** The flagship's declarations and node code in a temporary project: validated from disk, as `kiln validate` reads them. */
function flagshipCopy(): string {
  const root = copyProject(path.join(repoRoot, 'test', 'fixtures', 'projects', 'mini'), 'kiln-fuzz-');
  fs.rmSync(path.join(root, 'pipelines'), { recursive: true, force: true });
  for (const [rel, text] of Object.entries(flagship)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  }
  return root;
}

async function crashes(seed: number, cases: number, mutations: Mutation[]): Promise<string[]> {
  const rnd = prng(seed);
  const root = flagshipCopy();
  const found: string[] = [];
  for (let n = 0; n < cases; n++) {
    const file = pick(yamlFiles, rnd);
    let bytes: Buffer = Buffer.from(flagship[file], 'utf8');
    const steps = 1 + Math.floor(rnd() * 3);
    for (let s = 0; s < steps; s++) bytes = pick(mutations, rnd)(bytes, rnd);
    // The bytes on disk, read as `kiln validate` reads them; rendered as it prints them.
    fs.writeFileSync(path.join(root, file), bytes);
    try {
      const r = await analyzeProject(root);
      for (const d of r.diagnostics) if (!/^KILN\d{4}$/.test(d.code) || !d.message) throw new Error(`malformed diagnostic ${JSON.stringify(d)}`);
      renderDiagnostics(r.diagnostics, { color: false, source: (f) => r.loaded.sources.get(f) });
    } catch (e) {
      found.push(`seed ${seed} case ${n} (${file}, ${JSON.stringify(bytes.toString('latin1').slice(0, 80))}…): ${(e as Error).stack?.split('\n').slice(0, 3).join(' | ')}`);
      if (found.length >= 5) break;
    } finally {
      fs.writeFileSync(path.join(root, file), flagship[file]);
    }
  }
  return found;
}

describe('loader fuzz: no input crashes validate', () => {
  it('byte-level mutations of the flagship declarations give diagnostics, never a throw', async () => {
    expect(await crashes(0x6b696c6e, 1000, byteMutations)).toEqual([]);
  }, 180_000);

  it('structure-level mutations (nesting, tags, directives, aliases) give diagnostics, never a throw', async () => {
    expect(await crashes(0x79616d6c, 1000, structureMutations)).toEqual([]);
  }, 180_000);
});
