// Public surface of tracking: open a project's store (runs, registry, objects) and stamp a run with git.
import fs from 'node:fs';
import path from 'node:path';
import { SqliteRunStore, STORE_DATABASE, STORE_OBJECTS } from './sqlite-store.ts';
import { SqliteModelRegistry, type ModelRegistry } from './registry.ts';
import type { SqliteOpenOptions } from './sqlite.ts';
import { LocalObjectStore, type ObjectStore } from './objects.ts';
import { RemoteBackedObjectStore } from './remote-objects.ts';
import { OciClient } from '../oci/client.ts';
import type { OciReference } from '../oci/reference.ts';
import type { RunStore } from './store.ts';

export * from './store.ts';
export * from './registry.ts';
// The git stamp (isomorphic-git) is imported from ./git.ts by the one command that stamps: reading runs never loads git.
export type { GitStamp, GitStampOptions, UncommittedFile, UncommittedStatus } from './git.ts';
export { LocalObjectStore, hashFile, hashTree, hashPath, sha256, type ObjectStore, type ObjectKind, type TreeEntry } from './objects.ts';
export { SqliteRunStore, STORE_DATABASE, STORE_OBJECTS } from './sqlite-store.ts';
export { openProjectTracking, openPostgresTracking, embeddedStoreDir } from './open.ts';
export { flattenParams } from './params.ts';
export { parseFilter, compileFilter, filterToSql, type FilterExpr, type SqlCondition } from './filter.ts';
export { compareRuns, type RunComparison } from './compare.ts';
export { SCHEMA_VERSION } from './migrations.ts';

/** The tracking side of a project: its run store, model registry and object store. */
export interface Tracking<Runs extends RunStore = RunStore> {
  runs: Runs;
  registry: ModelRegistry;
  objects: ObjectStore;
  /** The objects repository behind the local object store (kiln.yaml `objects:`), when there is one. */
  remote: RemoteBackedObjectStore | null;
  /** Ids of runs found dead and marked KILLED on open. */
  reaped: string[];
  close(): void;
}

/**
 * Opens (creating when needed) the store in `storeDir`, which is `<project>/.kiln` unless kiln.yaml says otherwise;
 * with `objectsRemote` (objectsRemoteOf in src/config/objects-remote.ts), objects missing locally come from there.
 */
export function openTracking(storeDir: string, opts: SqliteOpenOptions & { objectsRemote?: OciReference | null } = {}): Tracking<SqliteRunStore> {
  const { objectsRemote, ...open } = opts;
  let remote: RemoteBackedObjectStore | null = null;
  if (objectsRemote) {
    const local = new LocalObjectStore(path.join(storeDir, STORE_OBJECTS));
    local.sweepDeadTemporaries();
    remote = behindRemote(local, objectsRemote);
  }
  const runs = SqliteRunStore.open(storeDir, remote ? { ...open, objects: remote } : open);
  return { runs, registry: new SqliteModelRegistry(runs.database), objects: runs.objects, remote, reaped: runs.reapedOnOpen, close: () => runs.close() };
}

/** The local object store with the objects repository `remote` behind it: objects missing here come from there. */
export function behindRemote(local: LocalObjectStore, remote: OciReference): RemoteBackedObjectStore {
  return new RemoteBackedObjectStore(local, new OciClient(remote));
}

/** Whether `storeDir` holds a run store already; read-only commands use it to avoid creating one. */
export function storeExists(storeDir: string): boolean {
  return fs.existsSync(path.join(storeDir, STORE_DATABASE));
}
