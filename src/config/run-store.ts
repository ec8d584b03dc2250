// Which run store a project uses: kiln.yaml's `store:` (a folder for the embedded SQLite store, or a postgres:// URL
// with ${NAME} references to the environment), or the KILN_STORE environment variable that replaces it for one process
// (CI points at PostgreSQL while developers keep the local default). Objects and local caches stay in a folder.
import fs from 'node:fs';
import path from 'node:path';
import { diag, KilnError } from '../diagnostics/diagnostic.ts';
import type { SourceLocation } from '../diagnostics/types.ts';
import { isPostgresUrl, isStoreUrl, maskStoreUrl } from '../tracking/store-url.ts';
import { substituteEnv } from './env-substitution.ts';
import { storeDirOf, storeSetting } from './store-dir.ts';

/** The environment variable that replaces kiln.yaml's `store:` (a postgres:// URL). */
export const STORE_ENV = 'KILN_STORE';

export type RunStoreLocation =
  | { kind: 'sqlite'; /** Absolute folder of kiln.db and objects/. */ dir: string }
  | {
      kind: 'postgres';
      /** With the environment substituted: holds the password; never print it. */
      url: string;
      /** The URL with its password masked, for every message. */
      display: string;
      /** Where the URL came from, and the variables it read, so that a refused login can say what to set. */
      source: 'kiln.yaml' | typeof STORE_ENV;
      variables: string[];
      /** Absolute folder of the object store and local caches (kiln.yaml's `store:` is the URL, so the default). */
      dir: string;
    };

/** Where `store:` is in kiln.yaml's text, for a located diagnostic (the whole file when the YAML does not say). */
function storeLocation(file: string, text: string): SourceLocation {
  const lines = text.split('\n');
  const line = lines.findIndex((l) => /^store\s*:/.test(l));
  if (line < 0) return { file, line: 1, column: 1, endLine: 1, endColumn: 1 };
  const valueColumn = /^store\s*:\s*/.exec(lines[line])![0].length + 1;
  return { file, line: line + 1, column: valueColumn, endLine: line + 1, endColumn: Math.max(valueColumn, lines[line].replace(/\s+(#.*)?$/, '').length), pointer: '/store' };
}

function readKilnYaml(root: string): { text: string; store: unknown } | null {
  try {
    const text = fs.readFileSync(path.join(root, 'kiln.yaml'), 'utf8');
    return { text, store: storeSetting(text) };
  } catch {
    return null;
  }
}

/** The run store of the project at `projectRoot`: KILN_STORE when set, else kiln.yaml's `store:`. */
export function runStoreOf(projectRoot: string, env: NodeJS.ProcessEnv = process.env): RunStoreLocation {
  const root = path.resolve(projectRoot);
  const dir = storeDirOf(root);
  const override = env[STORE_ENV];
  if (override !== undefined && override !== '') {
    if (!isPostgresUrl(override)) {
      throw new KilnError(diag('KILN1029', { store: isStoreUrl(override) ? maskStoreUrl(override) : override, source: `the environment variable ${STORE_ENV}`, reason: `${STORE_ENV} takes a postgres:// URL; the folder of the embedded store is \`store:\` in kiln.yaml` }));
    }
    return { kind: 'postgres', url: override, display: maskStoreUrl(override), source: STORE_ENV, variables: [STORE_ENV], dir };
  }
  const yaml = readKilnYaml(root);
  const store = yaml?.store;
  if (typeof store !== 'string' || !isStoreUrl(store)) return { kind: 'sqlite', dir };
  if (!isPostgresUrl(store)) {
    throw new KilnError(diag('KILN1029', { store: maskStoreUrl(store), source: '`store:` in kiln.yaml', reason: `the scheme ${store.slice(0, store.indexOf('://') + 3)} is not a run store` }, storeLocation('kiln.yaml', yaml!.text)));
  }
  const s = substituteEnv(store, env);
  if (s.missing.length) {
    throw new KilnError(diag('KILN1028', { name: s.missing[0], store: maskStoreUrl(store) }, storeLocation('kiln.yaml', yaml!.text)));
  }
  return { kind: 'postgres', url: s.value, display: maskStoreUrl(s.value), source: 'kiln.yaml', variables: s.used, dir };
}
