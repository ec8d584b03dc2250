// Names a place in a declaration file in the user's words: "inputs of node 'split'", "dataset 'raw_emails'".
import type { DeclarationKind } from './schemas.ts';
import { pointerParts } from './yaml.ts';

function at(value: unknown, path: string[]): unknown {
  let v = value;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return v;
}

function nodeLabel(value: unknown, index: string): string {
  const item = at(value, ['nodes', index]) as Record<string, unknown> | undefined;
  if (item && typeof item === 'object') {
    if (typeof item.name === 'string') return `node '${item.name}'`;
    if (typeof item.pipeline === 'string') return `reuse of pipeline '${item.pipeline}'`;
    if (typeof item.run === 'string' && item.run.includes('#')) return `node '${item.run.split('#').pop()}'`;
  }
  return `node #${Number(index) + 1}`;
}

export function describePointer(kind: DeclarationKind, value: unknown, pointer: string): string {
  const p = pointerParts(pointer);
  switch (kind) {
    case 'project':
      return p.length === 0 ? 'kiln.yaml' : `'${p.join('.')}' in kiln.yaml`;
    case 'parameters':
      return p.length === 0 ? 'the parameters file' : `parameter '${p.join('.')}'`;
    case 'catalog': {
      if (p.length === 0) return 'the catalog';
      const ds = `dataset '${p[0]}'`;
      if (p.length === 1) return ds;
      return `'${p.slice(1).join('.')}' of ${ds}`;
    }
    case 'pipeline': {
      if (p.length === 0) return 'the pipeline file';
      if (p[0] === 'nodes') {
        if (p.length === 1) return "'nodes'";
        const label = nodeLabel(value, p[1]);
        if (p.length === 2) return label;
        const rest = p.slice(2);
        if ((rest[0] === 'inputs' || rest[0] === 'outputs') && rest.length === 2) {
          // A list form binds by position: "input #2", not "input '1'".
          const positional = Array.isArray(at(value, ['nodes', p[1], rest[0]]));
          return `${rest[0].slice(0, -1)} ${positional ? `#${Number(rest[1]) + 1}` : `'${rest[1]}'`} of ${label}`;
        }
        if (rest[0] === 'tags' && rest.length === 2) return `tag #${Number(rest[1]) + 1} of ${label}`;
        return `'${rest.join('.')}' of ${label}`;
      }
      if (p[0] === 'model') return p.length === 1 ? 'the model binding' : `'model.${p.slice(1).join('.')}'`;
      return `'${p.join('.')}'`;
    }
  }
}

/** A JSON value's kind in words: "a string", "a list", "a mapping", "null". */
export function describeValue(v: unknown): string {
  if (v === null) return 'null (empty)';
  if (Array.isArray(v)) return 'a list';
  switch (typeof v) {
    case 'string':
      return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
    case 'number':
      return Number.isInteger(v) ? `the integer ${v}` : `the number ${v}`;
    case 'boolean':
      return `${v}`;
    case 'object':
      return 'a mapping';
    default:
      return typeof v;
  }
}

const typeWords: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  null: 'null',
};

export function describeTypes(types: string[]): string {
  const words = [...new Set(types)].map((t) => typeWords[t] ?? t);
  if (words.length <= 1) return words[0] ?? 'something else';
  return `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}
