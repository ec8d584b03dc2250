// A full disk (ENOSPC, a quota, SQLite's "database or disk is full") is the user's to fix, not a kiln bug: these turn
// it into a diagnostic that names where space ran out, how much is free, and how much more is needed.
import fs from 'node:fs';
import path from 'node:path';
import { diag, KilnError, type Diagnostic } from '../diagnostics/index.ts';

export function isDiskFull(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL';
}

export function formatSize(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** Bytes available to this user on the disk holding `p` (or its nearest existing parent); null when unknown. */
export function freeSpace(p: string): number | null {
  let dir = path.resolve(p);
  for (;;) {
    try {
      const s = fs.statfsSync(dir);
      return s.bavail * s.bsize;
    } catch {
      const up = path.dirname(dir);
      if (up === dir) return null;
      dir = up;
    }
  }
}

function spaceArgs(where: string, needed: number | null): { free: string; needed: string } {
  const free = freeSpace(where);
  return {
    free: free === null ? 'unknown' : formatSize(free),
    // What the write needed beyond what is free; when unknown, a rough floor that still gets the user going.
    needed: needed !== null && free !== null ? formatSize(Math.max(needed - free, 0) + 1024 * 1024) : 'a few MiB',
  };
}

/** KILN4019: the run store (its objects or its database) ran out of space. */
export function storeFullDiagnostic(store: string, doing: string, needed: number | null = null): Diagnostic {
  return diag('KILN4019', { path: store, doing, ...spaceArgs(store, needed) });
}

/** Rethrows a full-disk error of a store write as KILN4019; anything else as it is. */
export function rethrowStoreFull(e: unknown, store: string, doing: string, needed: number | null = null): never {
  if (isDiskFull(e)) throw new KilnError(storeFullDiagnostic(store, doing, needed));
  throw e;
}

/**
 * Rethrows a full-disk error of a dataset write (a save, or a restore from the cache) as KILN3112; anything else as it
 * is. `shown` is the path as the catalog writes it, `absolute` where it is (to measure the free space there).
 */
export function rethrowDatasetFull(e: unknown, dataset: string, shown: string, absolute: string, doing: string): never {
  if (isDiskFull(e)) throw new KilnError(diag('KILN3112', { dataset, path: shown, doing, ...spaceArgs(absolute, null) }));
  throw e;
}
