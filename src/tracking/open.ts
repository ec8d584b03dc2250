// Opens the run store a project is configured with (kiln.yaml's `store:`, or KILN_STORE): the embedded SQLite store
// in a folder, or PostgreSQL. The one place that chooses a backend; commands get a Tracking and never ask which.
import path from 'node:path';
import { diag, KilnError } from '../diagnostics/index.ts';
import { runStoreOf, type RunStoreLocation } from '../config/run-store.ts';
import type { Tracking } from './index.ts';
import { LocalObjectStore } from './objects.ts';
import type { ModelRegistry } from './registry.ts';
import type { RemoteBackedObjectStore } from './remote-objects.ts';
import type { PostgresOpenOptions, PostgresRunStore } from './postgres/store.ts';
import type { PostgresTarget } from './postgres/connection.ts';
import type { OciReference } from '../oci/reference.ts';

export interface OpenProjectTracking {
  /** Create the embedded store when there is none yet (commands that record); reading commands get null instead. */
  create?: boolean;
  /** The objects repository (objectsRemoteOf in src/config/objects-remote.ts): objects missing locally come from there. */
  objectsRemote?: OciReference | null;
}

/**
 * The model registry beside a PostgreSQL run store. Versions registered in one machine's `.kiln/kiln.db` would point at
 * that machine's files and be unknown to the others, so the shared registry is the OCI one (publish.target: oci://…).
 */
function unsharedRegistry(store: string): ModelRegistry {
  const refuse = async (): Promise<never> => {
    throw new KilnError(diag('KILN4036', { store }));
  };
  return { registerVersion: refuse, publishVersion: refuse, setAlias: refuse, removeAlias: refuse, resolve: refuse, getVersion: refuse, listModels: refuse, showModel: refuse, aliasHistory: refuse };
}

/** The project's tracking, or null for a project without an embedded store yet when `create` is not set. */
export async function openProjectTracking(projectRoot: string, opts: OpenProjectTracking = {}, location: RunStoreLocation = runStoreOf(projectRoot)): Promise<Tracking | null> {
  const { openTracking, storeExists } = await import('./index.ts');
  const objectsRemote = opts.objectsRemote ?? null;
  if (location.kind === 'sqlite') return opts.create || storeExists(location.dir) ? openTracking(location.dir, { objectsRemote }) : null;
  return openPostgresTracking({ url: location.url, display: location.display, variables: location.variables }, location.dir, { objectsRemote });
}

/** Runs in PostgreSQL at `target`, objects in the local folder `storeDir` (`<project>/.kiln`). */
export async function openPostgresTracking(target: PostgresTarget, storeDir: string, opts: PostgresOpenOptions & { objectsRemote?: OciReference | null } = {}): Promise<Tracking<PostgresRunStore>> {
  const { objectsRemote, ...open } = opts;
  const { PostgresRunStore } = await import('./postgres/store.ts');
  const local = new LocalObjectStore(path.join(storeDir, 'objects'));
  let remote: RemoteBackedObjectStore | null = null;
  if (objectsRemote) remote = (await import('./index.ts')).behindRemote(local, objectsRemote);
  const runs = await PostgresRunStore.open(target, remote ?? local, open);
  local.sweepDeadTemporaries();
  return { runs, registry: unsharedRegistry(target.display), objects: runs.objects, remote, reaped: runs.reapedOnOpen, close: () => runs.close() };
}

/**
 * The folder of the project's embedded store, for the commands that work on its SQLite database itself (`kiln gc`,
 * `kiln runs delete`); KILN4037 when the runs are in PostgreSQL, shared by machines whose objects this one cannot see.
 */
export function embeddedStoreDir(projectRoot: string, command: string): string {
  const location = runStoreOf(projectRoot);
  if (location.kind !== 'sqlite') throw new KilnError(diag('KILN4037', { store: location.display, command }));
  return location.dir;
}
