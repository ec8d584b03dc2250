// Where kiln's own code is, as Node runs it: lib/*.js when running from the build (an installed package, the bin),
// src/*.ts when running from the sources (tests). Imports of kiln itself ('kiln-ml', 'kiln-ml/ml') resolve there, so
// node code hashes and artifact bundles hold exactly the kiln code that training executed.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'esbuild';
import { kilnSubpath } from '../version.ts';

const here = fileURLToPath(import.meta.url);

/** kiln's code folder: <package>/lib or <package>/src. */
export const kilnCodeDir = path.resolve(path.dirname(here), '..');

/** The package root (package.json, bin/, schema/). */
export const kilnRoot = path.dirname(kilnCodeDir);

/** '.js' (built) or '.ts' (sources): the extension of kiln's own modules in the running kiln. */
export const kilnModuleExtension = path.extname(here);

/** The module of kiln's code folder that 'kiln-ml' (null) or 'kiln-ml/<sub>' names, relative to kilnRoot (POSIX). */
export function kilnEntry(sub: string | null): string {
  return `${path.basename(kilnCodeDir)}/${sub === null ? 'index' : `${sub}/index`}${kilnModuleExtension}`;
}

/** A module beside the calling one in the running kiln ('parity-worker' → …/parity-worker.js or .ts). */
export function besideModule(callerUrl: string, name: string): string {
  return path.join(path.dirname(fileURLToPath(callerUrl)), `${name}${kilnModuleExtension}`);
}

export const kilnSelf: Plugin = {
  name: 'kiln-self',
  setup(b) {
    b.onResolve({ filter: /^kiln-ml(\/[A-Za-z0-9_-]+)?$/ }, (args) => {
      const sub = kilnSubpath(args.path);
      if (sub === undefined) return undefined;
      return { path: path.join(kilnRoot, ...kilnEntry(sub).split('/')) };
    });
  },
};
