// Where a dataset's files live: a catalog path resolved from the project root, refused when it leads outside
// the project (by `..`, by being absolute, or through a symbolic link) unless it is under an allowed path.
import { lstatSync, readlinkSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { diag, KilnError, type SourceLocation } from '../diagnostics/index.ts';

/** True when `child` is `parent` or inside it (both absolute and normalised). */
export function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..' + path.sep) && rel !== '..' && !path.isAbsolute(rel));
}

/**
 * The real path of `p`: the real path of its deepest existing ancestor joined with the part that does not exist
 * yet, so that a symbolic link anywhere on the way is followed even when the file itself is still to be written.
 * A dangling link is followed too (writing through it would create its target).
 */
export function realpathOfDeepestAncestor(p: string): string {
  let existing = path.resolve(p);
  const rest: string[] = [];
  for (let hops = 0; ; ) {
    try {
      return path.join(realpathSync.native(existing), ...rest.reverse());
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // ENOTDIR: an ancestor is a file; the path cannot exist, and the lexical check already applies.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
      let link: string | null = null;
      try {
        if (lstatSync(existing).isSymbolicLink()) link = readlinkSync(existing);
      } catch {
        link = null;
      }
      if (link !== null) {
        if (++hops > 40) return path.join(existing, ...rest.reverse());
        // Continue from the link's target, keeping the parts below it.
        existing = path.resolve(path.dirname(existing), link);
        continue;
      }
      const parent = path.dirname(existing);
      if (parent === existing) return path.join(existing, ...rest.reverse());
      rest.push(path.basename(existing));
      existing = parent;
    }
  }
}

function realOrSelf(p: string): string {
  try {
    return realpathSync.native(p);
  } catch {
    return path.resolve(p);
  }
}

export interface ResolveDatasetPathOptions {
  /** Dataset name, for the diagnostic. */
  dataset?: string;
  /** Catalog entry location, for the diagnostic. */
  location?: SourceLocation;
}

/**
 * Absolute path of the catalog path `relPath`, resolved from `root`. Throws KILN3100 when the path is absolute,
 * climbs out of the root with `..`, is the root itself, or leads out through a symbolic link, unless it lies under
 * one of `allowedPaths` (absolute folders from kiln.yaml `paths.allow`). Links are checked when this is called;
 * a link created later, while the run goes on, is not seen.
 */
export function resolveDatasetPath(root: string, relPath: string, allowedPaths: readonly string[], opts: ResolveDatasetPathOptions = {}): string {
  const fail = (reason: string): never => {
    throw new KilnError(diag('KILN3100', { path: relPath, dataset: opts.dataset ?? '?', reason }, opts.location));
  };
  if (relPath.trim() === '' || relPath.includes('\0')) fail('is not a usable path');
  const absRoot = path.resolve(root);
  const target = path.resolve(absRoot, relPath);
  const lexicalAllowed = allowedPaths.map((a) => path.resolve(a));
  const realAllowed = lexicalAllowed.map(realOrSelf);
  const real = realpathOfDeepestAncestor(target);

  // An allowed location is judged by where the path really leads, so a link inside an allowed folder that points
  // elsewhere is refused as well.
  const underAllowed = realAllowed.some((a) => isInside(a, real));
  if (path.isAbsolute(relPath)) {
    if (underAllowed) return target;
    return fail('is absolute and not under an allowed path');
  }
  const realRoot = realOrSelf(absRoot);
  if (!isInside(absRoot, target)) {
    if (underAllowed) return target;
    return fail("leads outside the project root through '..'");
  }
  if (target === absRoot || real === realRoot) fail('is the project root itself');
  if (!isInside(realRoot, real)) {
    if (underAllowed) return target;
    return fail(`leads outside the project root through a symbolic link (it resolves to ${real})`);
  }
  return target;
}
