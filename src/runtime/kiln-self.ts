// An esbuild plugin resolving imports of kiln itself ('kiln-ml', 'kiln-ml/ml') to kiln's own sources, wherever the
// importing project is. Used for node code hashes and for artifact bundles.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'esbuild';
import { kilnSubpath } from '../version.ts';

export const kilnRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const kilnSelf: Plugin = {
  name: 'kiln-self',
  setup(b) {
    b.onResolve({ filter: /^kiln-ml(\/[A-Za-z0-9_-]+)?$/ }, (args) => {
      const sub = kilnSubpath(args.path);
      if (sub === undefined) return undefined;
      return { path: path.join(kilnRoot, 'src', sub === null ? 'index.ts' : `${sub}/index.ts`) };
    });
  },
};
