// The run store's folder from kiln.yaml (`store:`), read without validating the whole project: for commands that only
// read the store (`kiln runs`, `kiln predict model@alias`), which must stay fast and work on an invalid project too.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { DEFAULTS } from './defaults.ts';
import { isStoreUrl } from '../tracking/store-url.ts';

/** Absolute path of the project's store; the default `.kiln` when kiln.yaml is missing, unreadable or silent. */
export function storeDirOf(projectRoot: string): string {
  const root = path.resolve(projectRoot);
  let store: unknown;
  try {
    const file = path.join(root, 'kiln.yaml');
    if (fs.statSync(file).size <= 64 * 1024) store = storeSetting(fs.readFileSync(file, 'utf8'));
  } catch {
    store = undefined;
  }
  // A store outside the project is refused by validation (load.ts, escapesRoot); reading commands then use the default.
  // A URL (postgres://) holds the runs elsewhere; the objects and local caches stay in the default folder.
  const inside = typeof store === 'string' && store !== '' && !isStoreUrl(store) && !/[\u0000-\u001f\u007f]/.test(store) && !path.isAbsolute(store) && !path.posix.normalize(store.replace(/\\/g, '/')).startsWith('..');
  return path.join(root, inside ? (store as string) : DEFAULTS.store);
}

// Plain scalars YAML's core schema reads as something other than a string: null, booleans, numbers, .inf, .nan.
const NOT_A_STRING = /^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|[-+]?\.?[0-9].*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
// One line of the block mappings of plain words that kiln.yaml nearly always is: `key:` or `key: value`, a comment after.
const SIMPLE_LINE = /^( *)([A-Za-z0-9_-]+):(?:[ \t]+([A-Za-z0-9._/~][A-Za-z0-9._/~+=,;()@-]*))?(?:[ \t]+#.*)?[ \t]*$/;

/**
 * The `store:` value of kiln.yaml's text (throws where the YAML parser does). Loading the YAML parser is most of what
 * `kiln runs list` would cost, so a file made only of `key:` / `key: plain-word` lines, comments and blank lines, nested
 * by plain indentation, is read without it; anything else (quotes, flow collections, anchors, block scalars, lists,
 * several documents) goes to the parser.
 */
export function storeSetting(text: string): unknown {
  const simple = simpleStoreSetting(text);
  if (simple !== NOT_SIMPLE) return simple;
  const { parse } = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return (parse(text, { maxAliasCount: 100 }) as { store?: unknown } | null)?.store;
}

const NOT_SIMPLE = Symbol('not simple');

function simpleStoreSetting(text: string): unknown {
  let store: unknown;
  const topKeys = new Set<string>();
  // Indentations of the mappings open above the current line; a deeper line must follow a key without a value.
  const open: number[] = [0];
  let parentHasRoom = false;
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (/^[ \t]*(?:#.*)?$/.test(line)) continue;
    const m = SIMPLE_LINE.exec(line);
    if (!m) return NOT_SIMPLE;
    const indent = m[1].length;
    if (indent > open[open.length - 1]) {
      if (!parentHasRoom) return NOT_SIMPLE;
      open.push(indent);
    } else {
      while (indent < open[open.length - 1]) open.pop();
      if (indent !== open[open.length - 1]) return NOT_SIMPLE;
      // A key with no value and nothing nested under it is null; only `store` matters, and it is read below.
    }
    parentHasRoom = m[3] === undefined;
    if (indent === 0) {
      // `true:` and `True:` are the same key to YAML: only keys that are plainly strings are compared here.
      if (topKeys.has(m[2]) || NOT_A_STRING.test(m[2])) return NOT_SIMPLE;
      topKeys.add(m[2]);
      if (m[2] === 'store') store = m[3] === undefined ? NOT_SIMPLE : NOT_A_STRING.test(m[3]) ? NOT_SIMPLE : m[3];
    }
  }
  return store;
}
