// "Did you mean ...?" suggestions: the closest known names within an edit distance of 3.

/** Damerau-Levenshtein distance (optimal string alignment), so a swapped pair such as `inptus` costs 1. */
export function editDistance(a: string, b: string): number {
  const n = a.length;
  const m = b.length;
  if (n === 0) return m;
  if (m === 0) return n;
  let prev2 = new Array<number>(m + 1).fill(0);
  let prev = Array.from({ length: m + 1 }, (_, j) => j);
  let cur = new Array<number>(m + 1).fill(0);
  for (let i = 1; i <= n; i++) {
    cur[0] = i;
    for (let j = 1; j <= m; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prev2[j - 2] + 1);
      cur[j] = v;
    }
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[m];
}

/** Known names closest to `name` (all at the smallest distance found), at most `limit`, within `maxDistance`. */
export function suggest(name: string, known: Iterable<string>, maxDistance = 3, limit = 3): string[] {
  const scored: Array<[string, number]> = [];
  const lower = name.toLowerCase();
  for (const candidate of new Set(known)) {
    if (candidate === name) continue;
    const d = Math.min(editDistance(name, candidate), editDistance(lower, candidate.toLowerCase()));
    // Short names get a tighter bound: at most half the letters may differ, so `Z` does not suggest every one-letter name.
    const bound = Math.min(maxDistance, Math.floor(Math.max(name.length, candidate.length) / 2));
    if (d <= bound) scored.push([candidate, d]);
  }
  scored.sort((x, y) => x[1] - y[1] || x[0].localeCompare(y[0]));
  // Only the closest: `node10` suggests `node1`, not also `node2` and `node3` one edit further.
  const best = scored[0]?.[1];
  return scored.filter(([, d]) => d === best).slice(0, limit).map(([c]) => c);
}

/** " Did you mean 'x'?" or " Did you mean 'x' or 'y'?" or the empty string. */
export function didYouMean(name: string, known: Iterable<string>): string {
  return didYouMeanOneOf(suggest(name, known));
}

/** The same sentence for suggestions found another way (" did you mean 'a' or 'b'?"), or the empty string. */
export function didYouMeanOneOf(s: readonly string[]): string {
  if (s.length === 0) return '';
  const quoted = s.map((x) => `'${x}'`);
  const last = quoted.pop();
  return quoted.length ? ` did you mean ${quoted.join(', ')} or ${last}?` : ` did you mean ${last}?`;
}
