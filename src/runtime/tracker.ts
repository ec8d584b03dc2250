// What the runner needs to fingerprint nodes, record content hashes and skip unchanged nodes. Implemented on the
// run store and object store by src/runtime/cache.ts; absent when a run is not tracked.
import type { Dataset } from './datasets/types.ts';
import type { NodeIR } from '../ir/types.ts';

export interface Snapshot {
  /** sha256 of the content. */
  hash: string;
  /** Object-store reference to restore it from, or null when it cannot be stored (a value v8 cannot serialize). */
  ref: string | null;
}

export interface CachedExecution {
  fingerprint: string;
  /** The run whose execution is reused. */
  runId: string;
  /** dataset → snapshot of each output, as the earlier execution wrote it. */
  outputs: Record<string, Snapshot>;
}

export interface ContentTracker {
  /** Hash of a node's code: its module and the local modules it imports. */
  codeHash(node: NodeIR): Promise<string>;
  /** Snapshot of a dataset's saved files (hashing and, when `store` is set, copying them to the object store). */
  snapshotFiles(dataset: Dataset<unknown>, store: boolean): Promise<Snapshot | null>;
  /** Snapshot of an in-memory value (v8.serialize). */
  snapshotValue(value: unknown, store: boolean): Promise<Snapshot | null>;
  /** An earlier successful execution of this node with this fingerprint whose outputs are all restorable. */
  lookup(node: string, fingerprint: string): Promise<CachedExecution | null>;
  /**
   * Whether restoring the snapshot reads only this machine's disk. When not (its objects are on a remote), the runner
   * restores a missing output only once something reads it. Absent: always.
   */
  restorableHere?(snapshot: Snapshot): Promise<boolean>;
  /** Writes a stored snapshot back to a file dataset's location. */
  restoreFiles(dataset: Dataset<unknown>, snapshot: Snapshot): Promise<void>;
  /** Reads a stored in-memory value back. */
  restoreValue(snapshot: Snapshot): Promise<unknown>;
}
