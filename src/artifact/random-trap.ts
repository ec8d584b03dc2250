// Math.random on the inference path is unseeded randomness: predictions would differ from call to call. In the parity
// replay, a call from the artifact's code throws and is remembered, with the source file and function it came from.
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';

export interface RandomCall {
  /** The source file the bundle took the calling code from, as esbuild named it in the bundle. */
  file: string | null;
  fn: string | null;
}

/** The `// path` comments esbuild writes above each source file's code in a bundle: [1-based line, path], in order. */
function bundleSections(bundleText: string): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  bundleText.split('\n').forEach((l, i) => {
    const m = /^\/\/ (\S.*\.[cm]?[jt]sx?)$/.exec(l);
    if (m) out.push([i + 1, m[1]]);
  });
  return out;
}

/** The source file whose code is at `line` of the bundle: the last section starting at or before it. */
function sourceAt(sections: Array<[number, string]>, line: number): string | null {
  let lo = 0;
  let hi = sections.length - 1;
  let found: string | null = null;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (sections[mid][0] <= line) {
      found = sections[mid][1];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** Whether a frame's code is the project's or kiln's, rather than a package's bundled with it. */
function isAuthoredCode(source: string | null): source is string {
  return source !== null && !source.split('/').includes('node_modules');
}

/**
 * A module's top-level code: esbuild names the function that runs it after the module's path; the bundle's own top
 * level is the outermost frame, without a name (`<anonymous>` where tsx rewrote the stack).
 */
function isModuleSetUp(fn: string | undefined, outermost: boolean): boolean {
  return (fn !== undefined && /\.[cm]?[jt]sx?$/.test(fn)) || (outermost && (!fn || fn === '<anonymous>'));
}

/** Replaces Math.random: calls from code outside the bundle (kiln's host side) or only from packages bundled in it (TensorFlow.js set-up) still get a random number. */
export function trapMathRandom(bundleFile: string): { first: () => RandomCall | null } {
  const real = Math.random;
  const url = pathToFileURL(bundleFile).href;
  let first: RandomCall | null = null;
  let sections: Array<[number, string]> | undefined;
  const readSections = () => {
    try {
      return bundleSections(fs.readFileSync(bundleFile, 'utf8'));
    } catch {
      return [];
    }
  };
  // Stack frames name the bundle by URL, or by path when a source-map hook (tsx) rewrote them.
  const places = [`${url}:`, `${bundleFile}:`];
  const escaped = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const framePattern = new RegExp(`at (?:async )?(?:(\\S+) \\()?(?:${places.map(escaped).join('|')})(\\d+):\\d+`);
  Math.random = function random(): number {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 50;
    const stack = new Error().stack ?? '';
    Error.stackTraceLimit = limit;
    const frames = stack
      .split('\n')
      .slice(2)
      .map((f) => framePattern.exec(f))
      .filter((m): m is RegExpExecArray => m !== null);
    if (frames.length === 0) return real();
    const at = sections ?? (sections = readSections());
    const placed = frames.map((m) => ({ fn: m[1], source: sourceAt(at, Number(m[2])) }));
    // A package bundled in the artifact (TensorFlow.js, its seedrandom) seeds itself from Math.random while its module
    // is set up, on whoever's import: allowed. Refused: a call made by the project's or kiln's code (an unseeded op
    // called on the inference path has its caller on the stack), or their own top-level code calling it.
    const authored = placed.filter((f, i) => isAuthoredCode(f.source) && (i === 0 || !isModuleSetUp(f.fn, i === placed.length - 1)));
    if (authored.length === 0) return real();
    if (!first) {
      const named = authored.map((f) => f.fn).find((n) => n && n !== '<anonymous>');
      first = { file: authored[0].source, fn: named ? named.replace(/^(Object|Module)\./, '') : null };
    }
    throw new Error('Math.random is refused on the inference path during the parity check (unseeded randomness)');
  };
  return { first: () => first };
}
