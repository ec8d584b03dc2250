// "Did you mean ...?" suggestions: the closest known names within an edit distance of 3.
//
// The name may come from anyone (a YAML key, a JSON key in a scoring request), so the work is bounded: edit distance
// costs the product of the two lengths, and a 1 MB request key once held the scoring server's event loop for seconds.

/** Names (and candidates) longer than this get no suggestion: a typo of a known name is about as long as the name. */
export const MAX_SUGGESTED_NAME_LENGTH = 128;
/** Known names examined for one suggestion; past this many the rest are not compared. */
export const MAX_SUGGESTION_CANDIDATES = 10_000;

/**
 * Damerau-Levenshtein distance (optimal string alignment), so a swapped pair such as `inptus` costs 1.
 * With `limit`, stops as soon as the distance is sure to exceed it and returns `limit + 1`.
 */
export function editDistance(a: string, b: string, limit = Infinity): number {
  const n = a.length;
  const m = b.length;
  if (n === 0) return Math.min(m, limit + 1);
  if (m === 0) return Math.min(n, limit + 1);
  // The distance is at least the difference in length.
  if (Math.abs(n - m) > limit) return limit + 1;
  let prev2 = new Array<number>(m + 1).fill(0);
  let prev = Array.from({ length: m + 1 }, (_, j) => j);
  let cur = new Array<number>(m + 1).fill(0);
  for (let i = 1; i <= n; i++) {
    cur[0] = i;
    let rowMin = i;
    for (let j = 1; j <= m; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prev2[j - 2] + 1);
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    // Row minima never decrease (a transposition costs as much as the substitution it replaces), so this is final.
    if (rowMin > limit) return limit + 1;
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return Math.min(prev[m], limit + 1);
}

/** Known names closest to `name` (all at the smallest distance found), at most `limit`, within `maxDistance`. */
export function suggest(name: string, known: Iterable<string>, maxDistance = 3, limit = 3): string[] {
  if (name.length > MAX_SUGGESTED_NAME_LENGTH) return [];
  const scored: Array<[string, number]> = [];
  const lower = name.toLowerCase();
  let examined = 0;
  for (const candidate of new Set(known)) {
    if (++examined > MAX_SUGGESTION_CANDIDATES) break;
    if (candidate === name || candidate.length > MAX_SUGGESTED_NAME_LENGTH) continue;
    // Short names get a tighter bound: at most half the letters may differ, so `Z` does not suggest every one-letter name.
    const bound = Math.min(maxDistance, Math.floor(Math.max(name.length, candidate.length) / 2));
    const d = Math.min(editDistance(name, candidate, bound), editDistance(lower, candidate.toLowerCase(), bound));
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
