// Which version of a package a module's import would load, found as Node finds it: node_modules folders from the
// module's folder upwards. Node code hashes include these versions, so upgrading a dependency re-runs the nodes that
// import it (esbuild leaves packages out of the bundle it hashes).
import { readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import path from 'node:path';

/** The package an import names ('@scope/name' or 'name'), or null for a relative path, a URL or a Node built-in. */
export function packageOf(spec: string): string | null {
  if (isBuiltin(spec) || !/^(@[A-Za-z0-9._~-]+\/)?[A-Za-z0-9_~-][A-Za-z0-9._~-]*(\/|$)/.test(spec)) return null;
  const parts = spec.split('/');
  return spec.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
}

export interface InstalledPackage {
  version: string;
  /** Its package.json (absolute): a changed one means an install changed the package. */
  manifest: string;
}

/** The package `name` as an import from a module in `fromDir` finds it on disk; null when it is not installed. */
export function installedPackage(fromDir: string, name: string): InstalledPackage | null {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    if (path.basename(dir) !== 'node_modules') {
      const manifest = path.join(dir, 'node_modules', name, 'package.json');
      try {
        const version = (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: unknown }).version;
        return { version: typeof version === 'string' ? version : '', manifest };
      } catch {
        // Not here (or unreadable): Node looks one folder up, and so do we.
      }
    }
    if (path.dirname(dir) === dir) return null;
  }
}
