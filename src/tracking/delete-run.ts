// Unlisting runs (`kiln runs delete`, `kiln gc --keep-last`): their records go; their objects and artifacts stay until
// `kiln gc`. A RUNNING run and the run of a registered model version (its lineage) cannot be deleted.
import { diag, KilnError } from '../diagnostics/index.ts';
import type { Tracking } from './index.ts';
import type { SqliteRunStore } from './sqlite-store.ts';

/** Runs that must stay listed: run id → why (the registered versions built from them). */
export function runsNotDeletable(tracking: Tracking<SqliteRunStore>): Map<string, string> {
  const rows = tracking.runs.database.db.prepare('SELECT model, version, run_id FROM model_versions WHERE run_id IS NOT NULL ORDER BY model, version').all() as Array<{ model: string; version: number; run_id: string }>;
  const out = new Map<string, string>();
  for (const r of rows) out.set(r.run_id, [out.get(r.run_id), `${r.model}@v${r.version}`].filter(Boolean).join(', '));
  return out;
}

/** Deletes one run's record (parameters, metrics, tags, node executions and files go with it: ON DELETE CASCADE). */
export async function deleteRun(tracking: Tracking<SqliteRunStore>, idOrPrefix: string): Promise<string> {
  const id = await tracking.runs.resolveRunId(idOrPrefix);
  const run = await tracking.runs.getRun(id);
  if (run.status === 'RUNNING') throw new KilnError(diag('KILN4018', { run: id, reason: 'it is still RUNNING', fix: 'Wait for it to end, or stop it (Ctrl-C); a run whose process died is marked KILLED the next time the store is opened.' }));
  const versions = runsNotDeletable(tracking).get(id);
  if (versions) throw new KilnError(diag('KILN4018', { run: id, reason: `registered model version(s) ${versions} were built from it, and the registry keeps their lineage`, fix: 'Registered versions stay reproducible from their run; delete the run only if the version is removed from the registry.' }));
  deleteRunRecords(tracking, [id]);
  return id;
}

export function deleteRunRecords(tracking: Tracking<SqliteRunStore>, ids: readonly string[]): void {
  const database = tracking.runs.database;
  const del = database.db.prepare("DELETE FROM runs WHERE id = ? AND status != 'RUNNING'");
  database.write(() => {
    for (const id of ids) del.run(id);
  });
}
