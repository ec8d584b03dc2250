// Math.random on the inference path is unseeded randomness: predictions would differ from call to call. In the parity
// replay, a call from the artifact's code throws and is remembered, with the source file and function it came from.
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';

export interface RandomCall {
  /** The source file the bundle took the calling code from, as esbuild named it in the bundle. */
  file: string | null;
  fn: string | null;
}

/** The `// path` comment esbuild writes above each source file's code in a bundle, at or before `line` (1-based). */
function sourceOfBundleLine(bundleText: string, line: number): string | null {
  const lines = bundleText.split('\n');
  for (let i = Math.min(line, lines.length) - 1; i >= 0; i--) {
    const m = /^\/\/ (\S.*\.[cm]?[jt]sx?)$/.exec(lines[i]);
    if (m) return m[1];
  }
  return null;
}

/** Replaces Math.random: calls from code outside the bundle (kiln, TensorFlow.js set-up) still get a random number. */
export function trapMathRandom(bundleFile: string): { first: () => RandomCall | null } {
  const real = Math.random;
  const url = pathToFileURL(bundleFile).href;
  let first: RandomCall | null = null;
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
    if (!first) {
      let file: string | null = null;
      try {
        file = sourceOfBundleLine(fs.readFileSync(bundleFile, 'utf8'), Number(frames[0][2]));
      } catch {
        file = null;
      }
      const named = frames.map((m) => m[1]).find((n) => n && n !== '<anonymous>');
      first = { file, fn: named ? named.replace(/^Object\./, '') : null };
    }
    throw new Error('Math.random is refused on the inference path during the parity check (unseeded randomness)');
  };
  return { first: () => first };
}
