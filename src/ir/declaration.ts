// The part of a catalog entry that decides a dataset's bytes and how they are read back: what a node's fingerprint
// covers for each dataset it reads or writes, and what `kiln plan` compares to say that a node re-runs for it.
import type { DatasetIR, JsonValue } from './types.ts';

/** null for a dataset the catalog does not declare (an in-memory intermediate). The description is left out. */
export function datasetDeclaration(d: DatasetIR | undefined): JsonValue {
  if (!d || !d.declared) return null;
  return { type: d.type, path: d.path ?? null, versioned: d.versioned, options: d.options, schema: (d.schemaJson ?? d.schema ?? null) as JsonValue };
}
