// The built front end (index.html, app.js, app.css), read once into memory: the server answers only these names, so
// no request path ever reaches the disk.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface UiAsset {
  bytes: Buffer;
  contentType: string;
}

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

/**
 * Where the build put the front end: lib/ui/app beside this module when kiln runs from lib/; from the sources (tests
 * in-process), the same folder of the package's lib/.
 */
export function appDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const beside = path.join(here, 'app');
  if (fs.existsSync(path.join(beside, 'app.js'))) return beside;
  return path.resolve(here, '..', '..', 'lib', 'ui', 'app');
}

export function loadAssets(dir = appDir()): Map<string, UiAsset> {
  const out = new Map<string, UiAsset>();
  for (const name of ['index.html', 'app.js', 'app.css']) {
    out.set(name, { bytes: fs.readFileSync(path.join(dir, name)), contentType: TYPES[path.extname(name)] });
  }
  return out;
}
