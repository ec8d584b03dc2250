// Parsing one YAML declaration file with source positions, refusing duplicate keys, huge files and alias bombs.
import { LineCounter, parseDocument, isAlias, isMap, isSeq, isScalar, isPair, type Document, type Node as YamlNode, type ParsedNode } from 'yaml';
import { diag } from '../diagnostics/diagnostic.ts';
import type { Diagnostic, SourceLocation } from '../diagnostics/types.ts';

export const MAX_FILE_BYTES = 2 * 1024 * 1024;
/** Nodes the document may expand to once aliases are resolved; real declarations are far below this. */
export const MAX_EXPANDED_NODES = 100_000;

export interface YamlFile {
  /** Project-relative path. */
  file: string;
  text: string;
  doc: Document.Parsed;
  lineCounter: LineCounter;
  /** The plain value (aliases expanded), or undefined when the file had errors. */
  value: unknown;
}

export function spanLocation(file: string, lc: LineCounter, start: number, end: number, pointer?: string): SourceLocation {
  const s = lc.linePos(start);
  // The end offset is exclusive; point at the last character of the span.
  const e = lc.linePos(Math.max(start, end - 1));
  const loc: SourceLocation = { file, line: s.line, column: s.col, endLine: e.line, endColumn: e.col + 1 };
  if (pointer !== undefined) loc.pointer = pointer;
  return loc;
}

function nodeLocation(f: { file: string; lineCounter: LineCounter }, node: YamlNode | null | undefined): SourceLocation | undefined {
  const r = node?.range;
  if (!r) return undefined;
  return spanLocation(f.file, f.lineCounter, r[0], r[1]);
}

function keyText(key: unknown): string {
  if (isScalar(key)) return String(key.value);
  return String(key);
}

/** Counts the nodes of the document with aliases expanded, memoised per anchor, stopping as soon as the limit is passed. */
function expandedSize(doc: Document.Parsed, limit: number): number {
  const memo = new Map<YamlNode, number>();
  const visiting = new Set<YamlNode>();
  const size = (node: unknown): number => {
    if (node === null || node === undefined) return 1;
    if (isAlias(node)) {
      const target = node.resolve(doc);
      if (!target) return 1;
      return size(target);
    }
    const n = node as YamlNode;
    const cached = memo.get(n);
    if (cached !== undefined) return cached;
    if (visiting.has(n)) return limit + 1;
    visiting.add(n);
    let total = 1;
    if (isMap(n)) {
      for (const p of n.items) {
        total += size(p.key) + size(p.value);
        if (total > limit) break;
      }
    } else if (isSeq(n)) {
      for (const item of n.items) {
        total += size(item);
        if (total > limit) break;
      }
    }
    visiting.delete(n);
    memo.set(n, total);
    return total;
  };
  return size(doc.contents);
}

function checkDuplicateKeys(f: { file: string; lineCounter: LineCounter }, node: unknown, out: Diagnostic[]): void {
  if (isMap(node)) {
    const seen = new Map<string, YamlNode>();
    for (const p of node.items) {
      if (!isPair(p)) continue;
      const k = keyText(p.key);
      const first = seen.get(k);
      if (first) {
        const firstLoc = nodeLocation(f, first);
        out.push(diag('KILN1002', { key: k, firstLine: firstLoc?.line ?? '?' }, nodeLocation(f, p.key as YamlNode)));
      } else seen.set(k, p.key as YamlNode);
      checkDuplicateKeys(f, p.value, out);
    }
  } else if (isSeq(node)) {
    for (const item of node.items) checkDuplicateKeys(f, item, out);
  }
}

/** Parses `text` (from `file`), returning the file with positions and every problem found. */
export function parseYamlFile(file: string, text: string, limits = { maxBytes: MAX_FILE_BYTES, maxNodes: MAX_EXPANDED_NODES }): { file: YamlFile; diagnostics: Diagnostic[] } {
  const lineCounter = new LineCounter();
  const diagnostics: Diagnostic[] = [];
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > limits.maxBytes) {
    const doc = parseDocument('', { lineCounter });
    return {
      file: { file, text: '', doc, lineCounter, value: undefined },
      diagnostics: [diag('KILN1003', { size: bytes, limit: limits.maxBytes }, { file, line: 1, column: 1, endLine: 1, endColumn: 1 })],
    };
  }
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false, prettyErrors: false, version: '1.2', schema: 'core', strict: true });
  const f = { file, text, doc, lineCounter, value: undefined as unknown };
  for (const e of doc.errors) {
    const [start, end] = e.pos;
    const detail = e.message.split('\n')[0].replace(/ at line \d+, column \d+.*$/, '');
    diagnostics.push(diag('KILN1001', { detail }, spanLocation(file, lineCounter, start, Math.max(end, start + 1))));
  }
  if (diagnostics.length > 0) return { file: f, diagnostics };

  const size = expandedSize(doc, limits.maxNodes);
  if (size > limits.maxNodes) {
    const firstAlias = findFirstAlias(doc.contents);
    return { file: f, diagnostics: [diag('KILN1004', { limit: limits.maxNodes }, nodeLocation(f, firstAlias ?? doc.contents) ?? { file, line: 1, column: 1, endLine: 1, endColumn: 1 })] };
  }
  const unresolved = findUnresolvedAlias(doc);
  if (unresolved) {
    diagnostics.push(diag('KILN1001', { detail: `unknown alias *${unresolved.source}; an alias must refer to an anchor (&${unresolved.source}) defined before it` }, nodeLocation(f, unresolved)));
    return { file: f, diagnostics };
  }
  checkDuplicateKeys(f, doc.contents, diagnostics);
  if (diagnostics.length > 0) return { file: f, diagnostics };
  f.value = doc.toJS({ maxAliasCount: -1 });
  return { file: f, diagnostics };
}

function findFirstAlias(node: unknown): YamlNode | undefined {
  if (isAlias(node)) return node;
  if (isMap(node)) {
    for (const p of node.items) {
      const a = findFirstAlias(p.key) ?? findFirstAlias(p.value);
      if (a) return a;
    }
  } else if (isSeq(node)) {
    for (const i of node.items) {
      const a = findFirstAlias(i);
      if (a) return a;
    }
  }
  return undefined;
}

function findUnresolvedAlias(doc: Document.Parsed): (YamlNode & { source: string }) | undefined {
  let found: (YamlNode & { source: string }) | undefined;
  const walk = (node: unknown) => {
    if (found) return;
    if (isAlias(node)) {
      if (!node.resolve(doc)) found = node as YamlNode & { source: string };
      return;
    }
    if (isMap(node)) for (const p of node.items) { walk(p.key); walk(p.value); }
    else if (isSeq(node)) for (const i of node.items) walk(i);
  };
  walk(doc.contents);
  return found;
}

/** The YAML node at a JSON pointer, or the deepest existing ancestor, and whether it was found exactly. */
export function nodeAtPointer(doc: Document.Parsed, pointer: string): { node: ParsedNode | null; key: ParsedNode | null; exact: boolean } {
  const parts = pointer === '' ? [] : pointer.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  let node: unknown = doc.contents;
  let key: unknown = null;
  for (const part of parts) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => keyText(p.key) === part);
      if (!pair) return { node: node as ParsedNode, key: key as ParsedNode | null, exact: false };
      key = pair.key;
      node = pair.value;
    } else if (isSeq(node)) {
      const item = node.items[Number(part)];
      if (item === undefined) return { node: node as ParsedNode, key: key as ParsedNode | null, exact: false };
      key = null;
      node = item;
    } else {
      return { node: node as ParsedNode, key: key as ParsedNode | null, exact: false };
    }
  }
  return { node: node as ParsedNode | null, key: key as ParsedNode | null, exact: true };
}

/** Location of the value at `pointer` (or of its key with `atKey`), falling back to the nearest ancestor. */
export function locate(f: YamlFile, pointer: string, atKey = false): SourceLocation {
  const { node, key } = nodeAtPointer(f.doc, pointer);
  const target = (atKey && key ? key : node) ?? key;
  const loc = nodeLocation(f, target as YamlNode | null) ?? { file: f.file, line: 1, column: 1, endLine: 1, endColumn: 1 };
  return { ...loc, pointer };
}

/** Location of the key of the pair at `pointer` (where "unknown key" errors point). */
export function locateKey(f: YamlFile, pointer: string): SourceLocation {
  return locate(f, pointer, true);
}
