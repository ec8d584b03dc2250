// Verdicts that depend on a file's text alone (is a record schema usable, which names does a node module export),
// remembered in the store between commands: reaching them loads ajv's compiler or starts esbuild, which was most of
// what `kiln validate` cost. A verdict is keyed by the text, the code that judged it and the tool it used, so a
// changed file, kiln or tool is judged afresh; a missing or damaged file only means judging again.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from './runtime/atomic.ts';
import { kilnVersion } from './version.ts';

/** Where a project's verdicts are kept, under its store. */
export const verdictsFile = (storeDir: string) => path.join(storeDir, 'cache', 'text-verdicts.json');

/** Entries kept at most: a project has a few dozen files; a long-lived store must not grow without end. */
const MAX_ENTRIES = 2000;

const known = new Map<string, unknown>();
/** Verdicts reached in this process that the file does not hold yet. */
const fresh = new Map<string, unknown>();

export interface TextVerdicts<T> {
  recall(text: string): T | undefined;
  remember(text: string, verdict: T): void;
}

/** Installed version of a package kiln judges with, as resolved from kiln's own code ('unknown' when it cannot be told). */
function toolVersion(pkg: string): string {
  try {
    const entry = createRequire(import.meta.url).resolve(pkg);
    const marker = `${path.sep}node_modules${path.sep}${pkg.split('/').join(path.sep)}${path.sep}`;
    const at = entry.lastIndexOf(marker);
    if (at < 0) return 'unknown';
    return (JSON.parse(fs.readFileSync(path.join(entry.slice(0, at + marker.length), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/**
 * The verdicts of one kind. `judge` is the judging module's import.meta.url: its own text is part of the key, so a
 * kiln under development never reuses a verdict its earlier code reached. `isVerdict` tells a well-formed remembered one.
 */
export function textVerdicts<T>(kind: string, judge: string, tools: string[], isVerdict: (v: unknown) => boolean): TextVerdicts<T> {
  let salt: string | undefined;
  const saltOf = () => {
    if (salt === undefined) {
      const h = createHash('sha256').update(`${kind}\0kiln ${kilnVersion}\0`);
      for (const t of tools) h.update(`${t}@${toolVersion(t)}\0`);
      try {
        h.update(fs.readFileSync(fileURLToPath(judge)));
      } catch {
        h.update('unreadable judge');
      }
      salt = h.digest('hex');
    }
    return salt;
  };
  const keyOf = (text: string) => createHash('sha256').update(saltOf()).update('\0').update(text).digest('hex');
  return {
    recall(text) {
      const v = known.get(keyOf(text));
      // A file edited by hand is judged again rather than trusted.
      return v !== undefined && isVerdict(v) ? (v as T) : undefined;
    },
    remember(text, verdict) {
      const key = keyOf(text);
      if (known.has(key)) return;
      known.set(key, verdict);
      fresh.set(key, verdict);
    },
  };
}

/** Reads the verdicts kept in `file` (none when it is missing, unreadable or not kiln's). */
export function loadTextVerdicts(file: string): void {
  let entries: unknown;
  try {
    entries = (JSON.parse(fs.readFileSync(file, 'utf8')) as { verdicts?: unknown }).verdicts;
  } catch {
    return;
  }
  if (entries === null || typeof entries !== 'object' || Array.isArray(entries)) return;
  for (const [key, verdict] of Object.entries(entries as Record<string, unknown>)) if (/^[0-9a-f]{64}$/.test(key) && !known.has(key)) known.set(key, verdict);
}

/**
 * Adds this process's new verdicts to `file`, whole or not at all. A store that cannot be written (read-only checkout)
 * only loses the speed-up, never the command.
 */
export async function saveTextVerdicts(file: string): Promise<void> {
  if (fresh.size === 0) return;
  const adding = new Map(fresh);
  fresh.clear();
  try {
    let kept: Record<string, unknown> = {};
    try {
      const old = (JSON.parse(fs.readFileSync(file, 'utf8')) as { verdicts?: Record<string, unknown> }).verdicts;
      if (old && typeof old === 'object' && !Array.isArray(old)) kept = old;
    } catch {
      kept = {};
    }
    // The oldest go first: object keys keep insertion order.
    const merged = Object.entries({ ...kept, ...Object.fromEntries(adding) }).slice(-MAX_ENTRIES);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, JSON.stringify({ verdicts: Object.fromEntries(merged) }) + '\n');
  } catch {
    // Nothing to do: the verdicts are reached again next time.
  }
}
