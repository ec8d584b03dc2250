// `kiln package <run-id>`: (re)build the inference artifact of a finished run and check its parity.
import path from 'node:path';
import type { CommandModule } from './main.ts';
import { EXIT_OK, type Io } from './io.ts';
import { KilnError } from '../diagnostics/diagnostic.ts';
import type { BuildOptions, BuiltArtifact } from '../artifact/build.ts';
import type { ProjectIR } from '../ir/types.ts';
import type { Tracking } from '../tracking/index.ts';
import { rethrowStoreFull } from '../tracking/disk-full.ts';

/** How the parity records were replayed, for the summary line. */
function replayed(a: BuiltArtifact): string {
  const { records, alone, partition } = a.parity;
  const aloneText = alone === undefined ? '' : alone === records ? `, ${alone} alone` : `, ${alone} of ${records} alone (a seeded sample)`;
  const mixed = partition === undefined ? '' : `, ${partition.length} batches of mixed sizes`;
  return `one batch${aloneText}${mixed}, and again away from the project`;
}

export function describeArtifact(io: Io, root: string, a: BuiltArtifact): string {
  const rel = path.relative(io.cwd, a.dir) || '.';
  const how = a.parity.verifiedBy === a.manifest.run_id ? `checked in fresh processes: ${replayed(a)}; ${(a.parity.ms / 1000).toFixed(1)}s` : `same code, fitted state and records as the artifact of run ${a.parity.verifiedBy}, which was checked in a fresh process`;
  return `artifact ${a.manifest.model} from run ${a.manifest.run_id}: ${rel.startsWith('..') ? a.dir : rel}\n  parity: ${a.parity.records} record(s) identical to training on ${a.parity.backend ?? 'no TensorFlow.js backend'} (${how})\n`;
}

export async function packageRun(ir: ProjectIR, tracking: Tracking, runId: string, opts: BuildOptions = {}): Promise<BuiltArtifact> {
  const { buildArtifact } = await import('../artifact/build.ts');
  return buildArtifact(ir, tracking, runId, opts);
}

export const packageCommand: CommandModule = {
  register(program, io, setExit) {
    program
      .command('package <run-id>')
      .description('build (again) the inference artifact of a finished run and verify it predicts exactly what training did')
      .option('--project <dir>', 'project root (the folder with kiln.yaml)', '.')
      .action(async (runId: string, opts: { project: string }) => {
        setExit(
          (async () => {
            const root = path.resolve(io.cwd, opts.project);
            // Loaded here: `kiln run` imports this module for packageRun, and a run recalls its IR without the analyser.
            const { analyzeProject } = await import('../project.ts');
            const analyzed = await analyzeProject(root);
            if (!analyzed.ok || !analyzed.ir) throw new KilnError(analyzed.diagnostics);
            const { openProjectTracking } = await import('../tracking/index.ts');
            const { objectsRemoteOf } = await import('../config/objects-remote.ts');
            const tracking = (await openProjectTracking(root, { create: true, objectsRemote: objectsRemoteOf(analyzed.ir.settings) }))!;
            try {
              const storeDir = path.join(root, analyzed.ir.settings.storeDir);
              // Asked for explicitly: check parity in a fresh process, never inherit an earlier verdict.
              const built = await packageRun(analyzed.ir, tracking, runId, { recheck: true }).catch((e: unknown) => rethrowStoreFull(e, storeDir, `building the artifact of run ${runId}`));
              io.err(describeArtifact(io, root, built));
              return EXIT_OK;
            } finally {
              tracking.close();
            }
          })(),
        );
      });
  },
};

