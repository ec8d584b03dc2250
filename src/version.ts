// kiln's own version and package name, read once from package.json. The command is `kiln`; the npm package (what
// projects install and what node code imports: 'kiln-ml', 'kiln-ml/ml') is `kiln-ml`, as `kiln` on the registry is
// an unrelated package.
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };

export const kilnVersion: string = pkg.version;

/** The npm package name: what `kiln init` adds as a dependency and what node code imports. */
export const kilnPackage: string = pkg.name;

/** An import of kiln itself: the package, or one of its subpaths ('kiln-ml/ml'). */
export function kilnSubpath(spec: string): string | null | undefined {
  if (spec === kilnPackage) return null;
  if (spec.startsWith(`${kilnPackage}/`) && /^[A-Za-z0-9_-]+$/.test(spec.slice(kilnPackage.length + 1))) return spec.slice(kilnPackage.length + 1);
  return undefined;
}
