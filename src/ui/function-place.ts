// Where a node's function is defined (file:line), for the side panel: the YAML names `module#export`, and a reader
// wants the line of the export in the module.
import fs from 'node:fs';
import path from 'node:path';
import type { UiGraph } from './graph.ts';

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The 1-based line declaring `name` as an export of `text`, or null (re-exports and default exports are not followed). */
export function exportLine(text: string, name: string): number | null {
  const n = escape(name);
  const re = new RegExp(`^\\s*export\\s+(?:declare\\s+)?(?:async\\s+)?(?:function\\s*\\*?\\s*${n}\\b|(?:const|let|var|class)\\s+${n}\\b)`, 'm');
  const m = re.exec(text);
  return m ? text.slice(0, m.index + m[0].search(/\S/)).split('\n').length : null;
}

/** Points each node's place at its function's export when the module is in the project and declares it plainly. */
export function placeFunctions(graph: UiGraph, root: string): void {
  const texts = new Map<string, string | null>();
  const read = (rel: string) => {
    if (!texts.has(rel)) {
      const abs = path.resolve(root, rel);
      let text: string | null = null;
      try {
        if (!path.relative(root, abs).startsWith('..') && fs.statSync(abs).size < 2_000_000) text = fs.readFileSync(abs, 'utf8');
      } catch {
        text = null;
      }
      texts.set(rel, text);
    }
    return texts.get(rel) ?? null;
  };
  for (const p of graph.pipelines) {
    for (const n of p.nodes) {
      const hash = n.func.lastIndexOf('#');
      const module = n.func.slice(0, hash);
      const text = read(module);
      const line = text === null ? null : exportLine(text, n.func.slice(hash + 1));
      if (line !== null) n.place = { file: module, line, column: 1 };
    }
  }
}
