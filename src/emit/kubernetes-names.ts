// Kubernetes names for kiln's names: Argo task and template names are DNS-1123 labels (lowercase letters, digits and
// '-', at most 63 characters), and node names are not. Distinct names must stay distinct, the same way every time.
import { createHash } from 'node:crypto';

const MAX = 63;

const shortHash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 8);

/** A DNS-1123 label close to `name` ('spam.Fit_Vocabulary' → 'spam-fit-vocabulary'); not yet unique. */
export function dnsLabel(name: string): string {
  const label = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  return label || 'x';
}

/**
 * One label per name, in a map. A label that two names (or a reserved one) would share, or that had to be cut to fit,
 * ends in a hash of the whole name, so that it depends on that name alone and not on which other names exist.
 */
export function uniqueLabels(names: readonly string[], reserved: readonly string[] = [], shown: (name: string) => string = (n) => n): Map<string, string> {
  const plain = new Map(names.map((n) => [n, dnsLabel(shown(n))] as const));
  const count = new Map<string, number>();
  for (const r of reserved) count.set(r, 2);
  for (const l of plain.values()) count.set(l, (count.get(l) ?? 0) + 1);
  const out = new Map<string, string>();
  for (const n of names) {
    const l = plain.get(n)!;
    out.set(n, count.get(l) === 1 && l.length <= MAX ? l : `${l.slice(0, MAX - 9).replace(/-+$/, '')}-${shortHash(n)}`);
  }
  return out;
}
