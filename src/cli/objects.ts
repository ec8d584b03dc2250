// `kiln objects push [run...]`: shares runs' outputs through the objects repository (kiln.yaml `objects:` or
// KILN_OBJECTS) when `kiln run` could not: the retry that KILN4045 names. Pushing again is cheap: blobs the registry
// has are skipped after a HEAD, and the run's manifest is written last.
import path from 'node:path';
import type { CommandModule } from './main.ts';
import { EXIT_OK, EXIT_USER, handleFailure, report, type Io } from './io.ts';
import { diag, KilnError } from '../diagnostics/diagnostic.ts';
import type { Diagnostic } from '../diagnostics/types.ts';

interface PushFlags {
  project: string;
  /** How many of the newest runs to look at when none is named. */
  last: string;
}

async function pushAction(io: Io, runIds: string[], flags: PushFlags): Promise<number> {
  const root = path.resolve(io.cwd, flags.project);
  try {
    const { fsHost } = await import('../config/host.ts');
    const { loadProject } = await import('../config/load.ts');
    const { objectsRemoteOf } = await import('../config/objects-remote.ts');
    const loaded = await loadProject(fsHost(root));
    // Only kiln.yaml matters here: pushing recorded runs does not need the pipelines to compile.
    if (!loaded.settings) throw new KilnError(loaded.diagnostics);
    const ref = objectsRemoteOf(loaded.settings);
    if (!ref) {
      io.err('no objects repository: set `objects: oci://<registry>/<namespace>/<repo>` in kiln.yaml or KILN_OBJECTS; outputs stay in the local store\n');
      return EXIT_USER;
    }
    const { openTracking, storeExists } = await import('../tracking/index.ts');
    const { OciClient } = await import('../oci/client.ts');
    const { objectsOfRun, pushRunObjects, runObjectsTag } = await import('../tracking/remote-push.ts');
    const storeDir = path.join(root, loaded.settings.storeDir);
    if (!storeExists(storeDir)) {
      io.err(`no run store at ${storeDir}: nothing to push\n`);
      return EXIT_OK;
    }
    const tracking = openTracking(storeDir, { objectsRemote: ref });
    try {
      const client = new OciClient(ref, { push: true });
      const problems: Diagnostic[] = [];
      const named = runIds.length > 0;
      const ids = named ? await Promise.all(runIds.map((id) => tracking.runs.resolveRunId(id))) : (await tracking.runs.listRuns({ limit: Math.max(1, Number(flags.last) || 100) })).filter((r) => r.status !== 'RUNNING').map((r) => r.id);
      let pushedRuns = 0;
      for (const id of ids) {
        const run = await tracking.runs.getRun(id);
        if (objectsOfRun(run).size === 0) continue;
        // Unnamed runs already shared are left alone: their tag exists only once every blob was in place.
        if (!named && (await client.tagDigest(runObjectsTag(id))) !== null) continue;
        const outcome = await pushRunObjects(run, tracking.remote!.local, client);
        if (outcome.failed.length) {
          const owners = [...new Set(outcome.failed.map((f) => f.owner))];
          problems.push(diag('KILN4045', { run: id, count: outcome.failed.length, remote: outcome.remote, outputs: owners.length > 6 ? `${owners.slice(0, 6).join(', ')} and ${owners.length - 6} more` : owners.join(', '), reason: outcome.failed[0].reason, tag: outcome.tag }));
          continue;
        }
        pushedRuns++;
        io.err(`run ${id}: ${outcome.objects} object(s) in ${outcome.remote}:${outcome.tag}, ${outcome.uploaded} uploaded, ${outcome.present} already there\n`);
      }
      if (problems.length) return report(io, problems) || EXIT_USER;
      if (pushedRuns === 0) io.err(`every run's outputs are already in ${tracking.remote!.remote}\n`);
      return EXIT_OK;
    } finally {
      tracking.close();
    }
  } catch (e) {
    return handleFailure(io, e);
  }
}

export const objectsCommand: CommandModule = {
  register(program, io, setExit) {
    const objects = program.command('objects').description('share node outputs through the objects repository (kiln.yaml `objects:`)');
    objects
      .command('push')
      .description("upload runs' outputs to the objects repository: the named runs, or else every recent run not yet there")
      .argument('[runs...]', 'run ids or unique prefixes (none: every recent run whose manifest run-<id> is not in the repository)')
      .option('--project <dir>', 'project root (the folder with kiln.yaml)', '.')
      .option('--last <n>', 'with no run named, how many of the newest runs to look at', '100')
      .action((runs: string[], flags: PushFlags) => setExit(pushAction(io, runs, flags)));
  },
};
