// The first rows of a file dataset (jsonl, csv, json), for the side panel. Only files inside the project folder are
// read: the catalog comes from YAML a pull request may change, so its path is checked after resolving `..` and
// symbolic links, and only the first bytes are read whatever the file's size.
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { diag, didYouMean, KilnError } from '../diagnostics/index.ts';
import type { DatasetIR, ProjectIR } from '../ir/types.ts';

export interface DatasetPreview {
  dataset: string;
  type: string;
  /** Project-relative path of the file read. */
  path: string;
  size: number;
  rows: unknown[];
  /** True when the file holds more than the rows shown. */
  truncated: boolean;
}

const PREVIEWED = new Set(['jsonl', 'csv', 'json']);
/** Enough for the rows shown; a many-gigabyte jsonl costs no more than this. */
const HEAD_BYTES = 256 * 1024;

/** True when `inner` is `outer` or inside it (both absolute, resolved). */
export function isInside(outer: string, inner: string): boolean {
  const rel = path.relative(outer, inner);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function realOrNull(p: string): string | null {
  try {
    return fs.realpathSync(p);
  } catch {
    return null;
  }
}

function pipelineWriting(ir: ProjectIR, dataset: string): string {
  for (const p of Object.values(ir.pipelines)) if (p.nodes.some((n) => n.outputs.some((o) => o.dataset === dataset))) return p.name;
  return Object.keys(ir.pipelines)[0] ?? '<pipeline>';
}

/** The file a load of `d` reads now: its path, or with versioning the newest version's file. */
function currentFile(base: string, d: DatasetIR): string | null {
  if (!d.versioned) return fs.existsSync(base) ? base : null;
  let versions: string[];
  try {
    versions = fs.readdirSync(base).filter((v) => !v.startsWith('.')).sort();
  } catch {
    return null;
  }
  const newest = versions.at(-1);
  return newest ? path.join(base, newest, path.basename(base)) : null;
}

function readHead(file: string): { text: string; size: number } {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.alloc(Math.min(size, HEAD_BYTES));
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    return { text: buf.subarray(0, n).toString('utf8'), size };
  } finally {
    fs.closeSync(fd);
  }
}

export function previewDataset(ir: ProjectIR, name: string, limit = 20): DatasetPreview {
  const d = ir.datasets[name];
  if (!d) {
    const names = Object.keys(ir.datasets).sort();
    throw new KilnError(diag('KILN8004', { dataset: name, suggestion: didYouMean(name, names), available: names.join(', ') || '(none)' }));
  }
  if (!PREVIEWED.has(d.type) || !d.path) throw new KilnError(diag('KILN8006', { dataset: name, type: d.type }));
  const root = fs.realpathSync(ir.settings.root);
  const base = path.resolve(root, d.path);
  const outside = () => new KilnError(diag('KILN8003', { dataset: name, path: d.path, root }));
  if (!isInside(root, base)) throw outside();
  const file = currentFile(base, d);
  const real = file && realOrNull(file);
  if (!file || !real) throw new KilnError(diag('KILN8005', { dataset: name, path: d.path, pipeline: pipelineWriting(ir, name) }));
  // A symbolic link inside the project may still point out of it.
  if (!isInside(root, real) || !fs.statSync(real).isFile()) throw outside();
  const { text, size } = readHead(real);
  const whole = text.length >= size;
  let rows: unknown[];
  let truncated: boolean;
  if (d.type === 'jsonl') {
    const lines = text.split('\n');
    if (!whole) lines.pop();
    const nonEmpty = lines.filter((l) => l.trim() !== '');
    rows = nonEmpty.slice(0, limit).map((l) => parseOrText(l));
    truncated = !whole || nonEmpty.length > limit;
  } else if (d.type === 'csv') {
    const lines = text.split('\n');
    if (!whole) lines.pop();
    const header = d.options.header !== false;
    const delimiter = typeof d.options.delimiter === 'string' ? d.options.delimiter : ',';
    const records = parseCsv(lines.slice(0, limit + (header ? 1 : 0)).join('\n'), { columns: header, delimiter, skip_empty_lines: true, relax_column_count: true }) as unknown[];
    rows = records;
    truncated = !whole || lines.filter((l) => l.trim() !== '').length > limit + (header ? 1 : 0);
  } else {
    const value = whole ? parseOrText(text) : undefined;
    rows = Array.isArray(value) ? value.slice(0, limit) : value === undefined ? [] : [value];
    truncated = !whole || (Array.isArray(value) && value.length > limit);
  }
  return { dataset: name, type: d.type, path: path.relative(root, real).split(path.sep).join('/'), size, rows, truncated };
}

function parseOrText(s: string): unknown {
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return s;
  }
}
