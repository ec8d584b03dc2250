// `kiln gc`: frees the store's space that no listed run needs (objects, artifacts, leftovers of killed processes).
import path from 'node:path';
import { InvalidArgumentError } from 'commander';
import type { CommandModule } from './main.ts';
import { EXIT_OK, handleFailure, type Io } from './io.ts';
import type { GcResult } from '../tracking/gc.ts';

interface GcFlags {
  project: string;
  keepLast?: number;
  dryRun?: boolean;
  json?: boolean;
}

function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number (0 or more).');
  return n;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

function gcText(r: GcResult): string {
  const verb = r.dryRun ? 'would free' : 'freed';
  const lines = [
    ...(r.runsDeleted.length ? [`${r.dryRun ? 'would delete' : 'deleted'} ${r.runsDeleted.length} run(s) beyond --keep-last: ${r.runsDeleted.join(', ')}`] : []),
    `objects:   ${r.objects.count} unreferenced, ${formatBytes(r.objects.bytes)}`,
    `artifacts: ${r.artifacts.count} of runs no longer listed, ${formatBytes(r.artifacts.bytes)}`,
    `temporary: ${r.temporary.count} left by killed processes, ${formatBytes(r.temporary.bytes)}`,
    `${verb} ${formatBytes(r.bytes)}${r.keptAsRecent ? ` (kept ${r.keptAsRecent} recent object(s) a run in progress may be writing)` : ''}`,
  ];
  return lines.join('\n') + '\n';
}

async function gcAction(io: Io, flags: GcFlags): Promise<number> {
  const { openTracking, storeExists, embeddedStoreDir } = await import('../tracking/index.ts');
  const { collectGarbage } = await import('../tracking/gc.ts');
  const root = path.resolve(io.cwd, flags.project);
  try {
    const dir = embeddedStoreDir(root, 'kiln gc');
    if (!storeExists(dir)) {
      const empty: GcResult = { dryRun: Boolean(flags.dryRun), runsDeleted: [], objects: { count: 0, bytes: 0 }, artifacts: { count: 0, bytes: 0 }, temporary: { count: 0, bytes: 0 }, bytes: 0, keptAsRecent: 0 };
      io.out(flags.json ? JSON.stringify(empty, null, 2) + '\n' : `no store at ${dir}: nothing to free\n`);
      return EXIT_OK;
    }
    const tracking = openTracking(dir);
    try {
      const result = await collectGarbage(tracking, dir, { ...(flags.keepLast !== undefined ? { keepLast: flags.keepLast } : {}), dryRun: Boolean(flags.dryRun), projectRoot: root });
      io.out(flags.json ? JSON.stringify(result, null, 2) + '\n' : gcText(result));
      return EXIT_OK;
    } finally {
      tracking.close();
    }
  } catch (e) {
    return handleFailure(io, e, flags.json);
  }
}

export const gcCommand: CommandModule = {
  register(program, io, setExit) {
    program
      .command('gc')
      .description('free store space no listed run needs: unreferenced objects, artifacts of deleted runs, leftovers of killed processes')
      .option('--project <dir>', 'project root (the folder with kiln.yaml)', '.')
      .option('--keep-last <n>', 'first delete all runs but the newest n (RUNNING runs and runs of registered model versions stay)', parseCount)
      .option('--dry-run', 'only say what would be freed')
      .option('--json', 'print the result as JSON')
      .action((flags: GcFlags) => setExit(gcAction(io, flags)));
  },
};
