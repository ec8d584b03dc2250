// How deeply a YAML file nests its collections, measured on yaml's concrete syntax tree before a document is built:
// composing, converting and type-checking a deeply nested value recurse once per level and overflow the stack long
// before the file reaches the size limit, while no real declaration nests more than a handful of levels.
import type { CST } from 'yaml';

export const MAX_NESTING = 64;

type Token = CST.Token | CST.BlockMap['items'][number]['key'] | undefined | null;

/** The source offset of the first collection nested deeper than `limit`, or -1 when none is. Iterative: no recursion. */
export function firstTooDeep(tokens: readonly CST.Token[], limit: number): number {
  const stack: Array<[Token, number]> = tokens.map((t) => [t, 0]);
  while (stack.length) {
    const [token, depth] = stack.pop()!;
    if (!token) continue;
    switch (token.type) {
      case 'document':
        stack.push([token.value, depth]);
        break;
      case 'block-map':
      case 'block-seq':
      case 'flow-collection': {
        const level = depth + 1;
        if (level > limit) return token.offset;
        for (const item of token.items) {
          if ('key' in item) stack.push([item.key, level]);
          stack.push([item.value, level]);
        }
        break;
      }
      default:
        break;
    }
  }
  return -1;
}
