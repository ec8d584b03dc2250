// `kiln runs kill <run>`: ends a RUNNING run that nothing will end, KILLED with its running nodes. The remedy for a
// shared run (kiln run --run-id) whose workflow died without its exit handler: no process owns such a run, so no
// heartbeat lease ever expires for it. Works on either run store.
import path from 'node:path';
import os from 'node:os';
import type { Command } from 'commander';
import { EXIT_OK, handleFailure, type Io } from './io.ts';

interface KillOptions {
  project: string;
  reason?: string;
  json?: boolean;
}

export function addRunsKillCommand(runs: Command, io: Io, setExit: (code: number | Promise<number>) => void): void {
  runs
    .command('kill')
    .description('mark a RUNNING run KILLED, with its running nodes (a shared run whose workflow died without its exit handler stays RUNNING otherwise)')
    .argument('<id>', 'run id or unique prefix')
    .option('--project <dir>', 'project folder; the run store is the one its kiln.yaml names (or KILN_STORE)', '.')
    .option('--reason <text>', 'why, kept as the run\'s error')
    .option('--json', 'print the killed run id as JSON')
    .action((id: string, opts: KillOptions) => setExit(killRun(io, id, opts)));
}

async function killRun(io: Io, idOrPrefix: string, opts: KillOptions): Promise<number> {
  const { openProjectTracking } = await import('../tracking/index.ts');
  const { diag, KilnError } = await import('../diagnostics/index.ts');
  try {
    const root = path.resolve(io.cwd, opts.project);
    const tracking = await openProjectTracking(root);
    if (!tracking) throw new KilnError(diag('KILN4002', { id: idOrPrefix, store: path.join(root, '.kiln') }));
    try {
      const run = await tracking.runs.getRun(idOrPrefix);
      if (run.status !== 'RUNNING') throw new KilnError(diag('KILN4053', { run: run.id, status: run.status }));
      const why = opts.reason ?? `killed by kiln runs kill on ${os.hostname()}`;
      const resume = `kiln run ${run.pipeline} resumes it (unchanged nodes are skipped)`;
      await tracking.runs.finishRun(run.id, { status: 'KILLED', error: `${why}; ${resume}` });
      io.out(opts.json ? JSON.stringify({ killed: run.id }, null, 2) + '\n' : `killed run ${run.id}\n`);
      return EXIT_OK;
    } finally {
      tracking.close();
    }
  } catch (e) {
    return handleFailure(io, e, opts.json);
  }
}
