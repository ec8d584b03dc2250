// Shared by the tracking tests: temporary stores and a run description with sensible defaults.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { openTracking, type NewRun } from '../../src/tracking/index.ts';
import { isKilnError } from '../../src/diagnostics/index.ts';

/** The embedded store's tracking, whose database the tests of SQLite itself reach into. */
type Tracking = ReturnType<typeof openTracking>;

const made: string[] = [];
const opened: Tracking[] = [];

afterEach(() => {
  for (const t of opened.splice(0)) t.close();
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

export function tempDir(prefix = 'kiln-tracking-'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
}

/** A fresh store in a temporary project; closed after the test. */
export function tempStore(opts: Parameters<typeof openTracking>[1] = {}): { project: string; storeDir: string; tracking: Tracking } {
  const project = tempDir();
  const storeDir = path.join(project, '.kiln');
  const tracking = openTracking(storeDir, opts);
  opened.push(tracking);
  return { project, storeDir, tracking };
}

export function track(t: Tracking): Tracking {
  opened.push(t);
  return t;
}

export function newRun(over: Partial<NewRun> = {}): NewRun {
  return {
    pipeline: 'spam',
    command: ['kiln', 'run', 'spam'],
    git: { root: '/repo', commit: 'a'.repeat(40), branch: 'main', dirty: false, uncommitted: [], diffHash: null },
    versions: { kiln: '0.1.0', node: process.version, tfjs: '4.22.0' },
    backend: 'cpu',
    ...over,
  };
}

/** The codes of the KilnError `fn` throws (fails the test when it throws something else or nothing). */
export async function codesOf(fn: () => unknown): Promise<string[]> {
  try {
    await fn();
  } catch (e) {
    if (isKilnError(e)) return e.diagnostics.map((d) => d.code);
    throw e;
  }
  throw new Error('expected a KilnError, but nothing was thrown');
}

export async function diagnosticOf(fn: () => unknown) {
  try {
    await fn();
  } catch (e) {
    if (isKilnError(e)) return e.diagnostics[0];
    throw e;
  }
  throw new Error('expected a KilnError, but nothing was thrown');
}
