// Parsing one YAML declaration file with source positions, refusing duplicate keys, huge files and alias bombs.
import { Composer, Lexer, LineCounter, Parser, YAMLParseError, parseDocument, visit, isAlias, isMap, isSeq, isScalar, isPair, type Alias, type CST, type Document, type Pair, type YAMLMap, type Node as YamlNode, type ParsedNode } from 'yaml';
import { diag } from '../diagnostics/diagnostic.ts';
import type { Diagnostic, SourceLocation } from '../diagnostics/types.ts';
import { firstTooDeep, MAX_NESTING } from './nesting.ts';
import { unsupportedYaml } from './tags.ts';

export const MAX_FILE_BYTES = 2 * 1024 * 1024;
/** Nodes the aliases of a document may stand for once resolved; real declarations are far below this. */
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

const aliasMaps = new WeakMap<Document.Parsed, Map<Alias, YamlNode | undefined>>();

/**
 * The node each alias refers to (the last anchor of that name before it), found in one pass. yaml's own
 * `Alias.resolve` walks the whole document for every alias, which makes a file of many aliases quadratic.
 */
function aliasTargets(doc: Document.Parsed): Map<Alias, YamlNode | undefined> {
  let map = aliasMaps.get(doc);
  if (map) return map;
  map = new Map();
  const anchors = new Map<string, YamlNode>();
  const m = map;
  visit(doc, {
    Node: (_key, node) => {
      if (isAlias(node)) m.set(node, anchors.get(node.source));
      else if (node.anchor) anchors.set(node.anchor, node);
    },
  });
  aliasMaps.set(doc, map);
  return map;
}

function resolveAlias(doc: Document.Parsed, alias: Alias): YamlNode | undefined {
  return aliasTargets(doc).get(alias);
}

interface AnchorFrame {
  name: string;
  /** The running node count when the anchored node began. */
  start: number;
  /** pending: the node has not begun; single: one scalar; flow: [...] or {...}; block: the more indented lines below. */
  kind: 'pending' | 'flow' | 'block';
  flowDepth: number;
  indent: number;
}

const CONTROL = new Set(['\x02', '\x18', '\x1f']);

/**
 * A lower bound of the number of nodes the document expands to, from yaml's lexer alone (a fraction of a full
 * parse, and it stops as soon as the bound passes `limit`). Scalars, flow collections and aliases are counted, each
 * alias as the size of the node its anchor marks (a flow collection by its brackets, a block collection by the lines
 * indented below the anchor); anything it cannot size counts as one node, so the bound never exceeds the real count.
 * `aliases` is the part of that bound the aliases stand for (what the limit guards: plain nodes cost no more than
 * the bytes that wrote them), so a large file without aliases is never refused. A billion-laughs file passes any
 * limit within its first lines and is refused before a document is built.
 */
export function expansionLowerBound(text: string, limit: number): { total: number; aliases: number; firstAlias: number } {
  const sizes = new Map<string, number>();
  const open: AnchorFrame[] = [];
  let total = 0;
  let aliases = 0;
  let offset = 0;
  let firstAlias = -1;
  let flowDepth = 0;
  let lineStart = true;
  let pendingIndent = 0;
  let lineIndent = 0;
  let lineOffset = 0;
  /** Column of the last block entry begun on this line (a '-' or '?' indicator, or a key): an anchored block node is indented deeper. */
  let entryColumn = -1;
  let afterScalarMark = false;
  let blockScalarBody = false;
  const close = (f: AnchorFrame) => sizes.set(f.name, Math.max(1, total - f.start));
  const closePending = () => {
    while (open.length && open[open.length - 1].kind === 'pending') close(open.pop()!);
  };
  /** The first content of a line: block nodes indented no deeper than it have ended. */
  const beginLine = () => {
    lineStart = false;
    lineIndent = pendingIndent;
    entryColumn = -1;
    if (flowDepth === 0) {
      while (open.length && open[open.length - 1].kind === 'block' && lineIndent <= open[open.length - 1].indent) close(open.pop()!);
    }
  };
  for (const token of new Lexer().lex(text)) {
    if (token === '\x1f') {
      // A plain scalar, or a block scalar's body, follows: one node, which is all a pending anchor marks.
      if (blockScalarBody) blockScalarBody = false;
      else if (lineStart) beginLine();
      total++;
      afterScalarMark = true;
      closePending();
      continue;
    }
    if (CONTROL.has(token)) continue;
    const at = offset;
    offset += token.length;
    if (afterScalarMark) {
      // The scalar's text (a block scalar's body ends with its last line break).
      afterScalarMark = false;
      if (flowDepth === 0) entryColumn = at - lineOffset;
      if (token.endsWith('\n')) {
        lineStart = true;
        pendingIndent = 0;
        lineOffset = offset;
      }
      continue;
    }
    if (token === '\n' || token === '\r\n') {
      // An anchor at the end of its line marks the block node on the lines below, indented deeper than its entry.
      for (const f of open) if (f.kind === 'pending') f.kind = 'block';
      lineStart = true;
      pendingIndent = 0;
      lineOffset = offset;
      continue;
    }
    const first = token[0];
    if (first === ' ' || first === '\t') {
      if (lineStart) pendingIndent = token.length;
      continue;
    }
    if (first === '#') continue;
    if (lineStart) beginLine();
    if (flowDepth === 0 && (token === '-' || token === '?' || first === '"' || first === "'")) entryColumn = at - lineOffset;
    if (first === '&') {
      open.push({ name: token.slice(1), start: total, kind: 'pending', flowDepth, indent: entryColumn >= 0 ? entryColumn : lineIndent });
    } else if (first === '*') {
      if (firstAlias < 0) firstAlias = at;
      const size = sizes.get(token.slice(1)) ?? 1;
      total += size;
      aliases += size;
      closePending();
    } else if (token === '[' || token === '{') {
      total++;
      for (const f of open) {
        if (f.kind === 'pending') {
          f.kind = 'flow';
          f.flowDepth = flowDepth;
        }
      }
      flowDepth++;
    } else if (token === ']' || token === '}') {
      flowDepth = Math.max(0, flowDepth - 1);
      closePending();
      while (open.length && open[open.length - 1].kind === 'flow' && open[open.length - 1].flowDepth === flowDepth) close(open.pop()!);
    } else if (first === '"' || first === "'") {
      total++;
      closePending();
    } else if (first === '|' || first === '>') {
      blockScalarBody = true;
    } else if (first !== '!') {
      // An indicator (-, ?, :, ',') where a node was expected: the anchor marks an empty node.
      closePending();
    }
    if (aliases > limit) break;
  }
  return { total, aliases, firstAlias };
}

/** Counts the nodes of the document with aliases expanded, memoised per anchor, stopping as soon as the limit is passed. */
export function expandedSize(doc: Document.Parsed, limit: number): number {
  return expandedSizer(doc, limit)(doc.contents);
}

/** The expanded size of any node of the document, one memo shared by every call (a size past `limit` is not exact). */
function expandedSizer(doc: Document.Parsed, limit: number): (node: unknown) => number {
  const memo = new Map<YamlNode, number>();
  const visiting = new Set<YamlNode>();
  const size = (node: unknown): number => {
    if (node === null || node === undefined) return 1;
    if (isAlias(node)) {
      const target = resolveAlias(doc, node);
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
  return size;
}

/**
 * The nodes the aliases of the document stand for: each alias counted as the expanded size of its anchored node
 * (aliases inside that node expanded too), stopping as soon as the limit is passed. Plain nodes are not counted.
 */
export function aliasExpansion(doc: Document.Parsed, limit: number): number {
  const size = expandedSizer(doc, limit);
  let total = 0;
  const pending: unknown[] = [doc.contents];
  while (pending.length && total <= limit) {
    const node = pending.pop();
    if (isAlias(node)) {
      const target = resolveAlias(doc, node);
      total += target ? size(target) : 1;
    } else if (isMap(node)) {
      for (const p of node.items) pending.push(p.key, p.value);
    } else if (isSeq(node)) {
      pending.push(...node.items);
    }
  }
  return total;
}

/**
 * The alias at which the expanded document first nests deeper than `limit` collections, or undefined. The depth of
 * each node is memoised, so each node is measured once; the recursion is bounded by the expansion limit checked before.
 */
function aliasTooDeep(doc: Document.Parsed, limit: number): YamlNode | undefined {
  const memo = new Map<YamlNode, number>();
  let culprit: YamlNode | undefined;
  const depth = (node: unknown, via: YamlNode | undefined): number => {
    if (culprit || node === null || node === undefined) return 0;
    if (isAlias(node)) return depth(resolveAlias(doc, node), via ?? node);
    const n = node as YamlNode;
    const cached = memo.get(n);
    if (cached !== undefined) return cached;
    memo.set(n, 0);
    let d = 0;
    if (isMap(n)) for (const p of n.items) d = Math.max(d, depth(p.key, via), depth(p.value, via));
    else if (isSeq(n)) for (const item of n.items) d = Math.max(d, depth(item, via));
    const own = isMap(n) || isSeq(n) ? d + 1 : 0;
    if (own > limit && !culprit) culprit = via ?? n;
    memo.set(n, own);
    return own;
  };
  depth(doc.contents, undefined);
  return culprit;
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

const PARSE_OPTIONS = { uniqueKeys: false, prettyErrors: false, version: '1.2', schema: 'core', strict: true } as const;

/** The one document of the file from its syntax tree (what parseDocument does, without lexing the text a second time). */
function composeDocument(tokens: CST.Token[], length: number): Document.Parsed {
  let doc: Document.Parsed | null = null;
  for (const d of new Composer(PARSE_OPTIONS).compose(tokens, true, length)) {
    if (!doc) doc = d;
    else {
      doc.errors.push(new YAMLParseError([d.range[0], d.range[1]], 'MULTIPLE_DOCS', 'Source contains multiple documents; please use YAML.parseAllDocuments()'));
      break;
    }
  }
  return doc!;
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
  const aliases = expansionLowerBound(text, limits.maxNodes);
  if (aliases.aliases > limits.maxNodes) {
    const doc = parseDocument('', { lineCounter });
    const counter = new LineCounter();
    counter.addNewLine(0);
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) counter.addNewLine(i + 1);
    const end = /^\*[^\s,[\]{}]*/.exec(text.slice(aliases.firstAlias))?.[0].length ?? 1;
    return {
      file: { file, text, doc, lineCounter, value: undefined },
      diagnostics: [diag('KILN1004', { limit: limits.maxNodes }, spanLocation(file, counter, aliases.firstAlias, aliases.firstAlias + end))],
    };
  }
  const tokens = [...new Parser(lineCounter.addNewLine).parse(text)];
  const deep = firstTooDeep(tokens, MAX_NESTING);
  if (deep >= 0) {
    return {
      file: { file, text, doc: parseDocument('', {}), lineCounter, value: undefined },
      diagnostics: [diag('KILN1016', { limit: MAX_NESTING }, spanLocation(file, lineCounter, deep, deep + 1))],
    };
  }
  const doc = composeDocument(tokens, text.length);
  const f = { file, text, doc, lineCounter, value: undefined as unknown };
  for (const e of doc.errors) {
    const [start, end] = e.pos;
    const detail = e.message.split('\n')[0].replace(/ at line \d+, column \d+.*$/, '');
    diagnostics.push(diag('KILN1001', { detail }, spanLocation(file, lineCounter, start, Math.max(end, start + 1))));
  }
  if (diagnostics.length > 0) return { file: f, diagnostics };
  const unsupported = unsupportedYaml(file, lineCounter, tokens, doc);
  if (unsupported.length > 0) return { file: f, diagnostics: unsupported };

  // Only aliases can blow a document up: a large file without any is bounded by the size limit, and is no bomb.
  if (aliasExpansion(doc, limits.maxNodes) > limits.maxNodes) {
    const firstAlias = findFirstAlias(doc.contents);
    return { file: f, diagnostics: [diag('KILN1004', { limit: limits.maxNodes }, nodeLocation(f, firstAlias ?? doc.contents) ?? { file, line: 1, column: 1, endLine: 1, endColumn: 1 })] };
  }
  if (findFirstAlias(doc.contents)) {
    // Aliases nest what their anchors mark: a chain of them nests deeper than the text shows.
    const deepAlias = aliasTooDeep(doc, MAX_NESTING);
    if (deepAlias) return { file: f, diagnostics: [diag('KILN1016', { limit: MAX_NESTING }, nodeLocation(f, deepAlias) ?? { file, line: 1, column: 1, endLine: 1, endColumn: 1 })] };
  }
  const unresolved = findUnresolvedAlias(doc);
  if (unresolved) {
    diagnostics.push(diag('KILN1001', { detail: `unknown alias *${unresolved.source}; an alias must refer to an anchor (&${unresolved.source}) defined before it` }, nodeLocation(f, unresolved)));
    return { file: f, diagnostics };
  }
  checkDuplicateKeys(f, doc.contents, diagnostics);
  if (diagnostics.length > 0) return { file: f, diagnostics };
  f.value = plainValue(doc);
  return { file: f, diagnostics };
}

/**
 * The document as plain data (what yaml's `toJS` gives), aliases resolved through the one-pass map and shared like
 * yaml shares them; `doc.toJS` would resolve each alias by scanning the document again.
 */
function plainValue(doc: Document.Parsed): unknown {
  const memo = new Map<YamlNode, unknown>();
  const convert = (node: unknown): unknown => {
    if (node === null || node === undefined) return null;
    if (isAlias(node)) return convert(resolveAlias(doc, node));
    if (isScalar(node)) return node.value;
    const n = node as YamlNode;
    if (memo.has(n)) return memo.get(n);
    if (isMap(n)) {
      const out: Record<string, unknown> = {};
      memo.set(n, out);
      for (const p of n.items) {
        const k = isScalar(p.key) || isAlias(p.key) || p.key === null ? convert(p.key) : JSON.stringify(convert(p.key));
        // defineProperty, so that a key such as __proto__ is data and never the prototype.
        Object.defineProperty(out, k === null ? '' : String(k), { value: convert(p.value), writable: true, enumerable: true, configurable: true });
      }
      return out;
    }
    if (isSeq(n)) {
      const out: unknown[] = [];
      memo.set(n, out);
      for (const item of n.items) out.push(convert(item));
      return out;
    }
    return null;
  };
  return convert(doc.contents);
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
      if (!resolveAlias(doc, node)) found = node as YamlNode & { source: string };
      return;
    }
    if (isMap(node)) for (const p of node.items) { walk(p.key); walk(p.value); }
    else if (isSeq(node)) for (const i of node.items) walk(i);
  };
  walk(doc.contents);
  return found;
}

/** The reference tokens of a JSON pointer ('/a/b~1c' → ['a', 'b/c']). */
export function pointerParts(pointer: string): string[] {
  return pointer === '' ? [] : pointer.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

const pairIndexes = new WeakMap<object, Map<string, Pair>>();

/**
 * The pair of each key of a mapping, built once per mapping: a diagnostic or a location is asked for every key of a
 * file, and a scan of the mapping for each would make a file of many keys quadratic. The first pair of a key wins,
 * as duplicate keys are refused before anything is located.
 */
function pairOf(map: YAMLMap, key: string): Pair | undefined {
  let index = pairIndexes.get(map);
  if (!index) {
    index = new Map();
    for (const p of map.items) {
      const k = keyText(p.key);
      if (!index.has(k)) index.set(k, p as Pair);
    }
    pairIndexes.set(map, index);
  }
  return index.get(key);
}

/** The YAML node at a JSON pointer, or the deepest existing ancestor, and whether it was found exactly. */
export function nodeAtPointer(doc: Document.Parsed, pointer: string): { node: ParsedNode | null; key: ParsedNode | null; exact: boolean } {
  const parts = pointerParts(pointer);
  let node: unknown = doc.contents;
  let key: unknown = null;
  for (const part of parts) {
    if (isAlias(node)) node = resolveAlias(doc, node);
    if (isMap(node)) {
      const pair = pairOf(node, part);
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
