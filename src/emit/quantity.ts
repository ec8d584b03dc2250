// Kubernetes quantities (500m, 2, 4Gi, 1G), compared by value: a pod that runs several nodes asks for the most any
// of them needs.
const SUFFIX: Record<string, number> = { m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };

/** The value of a quantity the schema let through (a decimal number and an optional suffix). */
export function quantityValue(q: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)([a-zA-Z]*)$/.exec(q);
  if (!m || !(m[2] in SUFFIX)) throw new Error(`not a Kubernetes quantity: ${q}`);
  return Number(m[1]) * SUFFIX[m[2]];
}

/** The larger of the quantities, as written; the first of equals. */
export function largestQuantity(qs: readonly string[]): string | undefined {
  let best: string | undefined;
  for (const q of qs) if (best === undefined || quantityValue(q) > quantityValue(best)) best = q;
  return best;
}
