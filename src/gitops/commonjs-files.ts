// The files of a project whose meaning "type": "module" would change: .js and .jsx files (Node reads them by the
// package's "type"; .cjs and .mjs say their kind themselves), and a TypeScript build that emits CommonJS.
import fs from 'node:fs';
import path from 'node:path';
import { SKIP_DIRS } from '../config/host.ts';
import { emitsCommonJs } from './init-tsconfig.ts';

const LIMIT = 5;

export function commonJsUsers(root: string, tsconfig: string | undefined): string[] {
  const found: string[] = [];
  let more = 0;
  const walk = (rel: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(path.join(root, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      // A folder with its own package.json is another package: its "type" is its own.
      if (e.isDirectory() && !SKIP_DIRS.has(e.name) && !fs.existsSync(path.join(root, child, 'package.json'))) walk(child);
      else if (e.isFile() && /\.jsx?$/.test(e.name)) {
        if (found.length < LIMIT) found.push(child);
        else more++;
      }
    }
  };
  walk('');
  const out = more ? [...found, `${more} more .js file(s)`] : found;
  if (emitsCommonJs(root, tsconfig)) out.push('the CommonJS output of tsconfig.json ("module": "commonjs")');
  return out;
}
