// YAML features that declarations do not use and that yaml would otherwise apply or drop without a word: tags other
// than the core ones (!!binary becomes a Buffer, !!timestamp a Date, !!js/function and !local a bare string) and
// directives (%YAML 1.1 promises 1.1 semantics kiln does not apply, %TAG names tags that resolve to nothing).
import { isMap, isPair, isScalar, isSeq, type CST, type Document, type LineCounter, type Node as YamlNode } from 'yaml';
import { diag } from '../diagnostics/diagnostic.ts';
import type { Diagnostic } from '../diagnostics/types.ts';
import { spanLocation } from './yaml.ts';

const CORE = 'tag:yaml.org,2002:';
/** The tags of plain data; an explicit one of these (!!str 1) only says what the value already is. */
const PLAIN_TAGS = new Set(['!', ...['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((t) => CORE + t)]);

const shown = (tag: string) => (tag.startsWith(CORE) ? `!!${tag.slice(CORE.length)}` : tag);

/** Every node with a tag that is not plain data, and every directive, as located errors. */
export function unsupportedYaml(file: string, lc: LineCounter, tokens: readonly CST.Token[], doc: Document.Parsed): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const t of tokens) {
    if (t.type === 'directive') out.push(diag('KILN1021', { directive: t.source.trim() }, spanLocation(file, lc, t.offset, t.offset + t.source.length)));
  }
  // Iterative: nesting is bounded before this runs, but a stack costs nothing here.
  const stack: unknown[] = [doc.contents];
  while (stack.length) {
    const node = stack.pop();
    if (!node || typeof node !== 'object') continue;
    if (isPair(node)) {
      stack.push(node.value, node.key);
      continue;
    }
    const tag = (node as YamlNode).tag;
    if (tag !== undefined && !PLAIN_TAGS.has(tag)) {
      const r = (node as YamlNode).range;
      out.push(diag('KILN1020', { tag: shown(tag) }, r ? spanLocation(file, lc, r[0], Math.max(r[1], r[0] + 1)) : { file, line: 1, column: 1, endLine: 1, endColumn: 1 }));
      continue;
    }
    if (isMap(node) || isSeq(node)) for (let i = node.items.length - 1; i >= 0; i--) stack.push(node.items[i]);
    else if (!isScalar(node)) continue;
  }
  return out;
}
