// `kiln runs delete <run>…`: unlists runs (as MLflow's delete); `kiln gc` then reclaims their objects and artifacts.
import path from 'node:path';
import type { Command } from 'commander';
import { EXIT_OK, handleFailure, type Io } from './io.ts';

export function addRunsDeleteCommand(runs: Command, io: Io, setExit: (code: number | Promise<number>) => void): void {
  runs
    .command('delete')
    .description('delete runs from the store (not a RUNNING run, nor the run of a registered model version); `kiln gc` then frees their space')
    .argument('<ids...>', 'run ids or unique prefixes')
    .option('--project <dir>', 'project folder; the run store is the one its kiln.yaml names (<dir>/.kiln by default)', '.')
    .option('--json', 'print the deleted run ids as JSON')
    .action((ids: string[], opts: { project: string; json?: boolean }) => setExit(deleteRuns(io, ids, opts)));
}

async function deleteRuns(io: Io, ids: string[], opts: { project: string; json?: boolean }): Promise<number> {
  const { openTracking, storeExists, embeddedStoreDir } = await import('../tracking/index.ts');
  const { deleteRun } = await import('../tracking/delete-run.ts');
  const { diag, KilnError } = await import('../diagnostics/index.ts');
  try {
    const dir = embeddedStoreDir(path.resolve(io.cwd, opts.project), 'kiln runs delete');
    if (!storeExists(dir)) throw new KilnError(diag('KILN4002', { id: ids[0], store: dir }));
    const tracking = openTracking(dir);
    try {
      // Every id is resolved and checked before any is deleted, so that a typo in the list deletes nothing.
      for (const id of ids) await tracking.runs.resolveRunId(id);
      const deleted: string[] = [];
      for (const id of ids) deleted.push(await deleteRun(tracking, id));
      io.out(opts.json ? JSON.stringify({ deleted }, null, 2) + '\n' : deleted.map((id) => `deleted run ${id}\n`).join(''));
      if (!opts.json) io.err('their objects and artifacts stay in the store until `kiln gc`\n');
      return EXIT_OK;
    } finally {
      tracking.close();
    }
  } catch (e) {
    return handleFailure(io, e, opts.json);
  }
}
