// The run store's folder from kiln.yaml (`store:`), read without validating the whole project: for commands that only
// read the store (`kiln runs`, `kiln predict model@alias`), which must stay fast and work on an invalid project too.
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { DEFAULTS } from './defaults.ts';

/** Absolute path of the project's store; the default `.kiln` when kiln.yaml is missing, unreadable or silent. */
export function storeDirOf(projectRoot: string): string {
  const root = path.resolve(projectRoot);
  let store: unknown;
  try {
    const file = path.join(root, 'kiln.yaml');
    if (fs.statSync(file).size <= 64 * 1024) store = (parse(fs.readFileSync(file, 'utf8'), { maxAliasCount: 100 }) as { store?: unknown } | null)?.store;
  } catch {
    store = undefined;
  }
  // A store outside the project is refused by validation (load.ts, escapesRoot); reading commands then use the default.
  const inside = typeof store === 'string' && store !== '' && !/[\u0000-\u001f\u007f]/.test(store) && !path.isAbsolute(store) && !path.posix.normalize(store.replace(/\\/g, '/')).startsWith('..');
  return path.join(root, inside ? (store as string) : DEFAULTS.store);
}
