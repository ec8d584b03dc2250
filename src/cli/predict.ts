// `kiln predict <artifact> --input file.jsonl [--output file.jsonl]`: batch prediction, streamed, with a progress bar.
import path from 'node:path';
import type { CommandModule } from './main.ts';
import { EXIT_OK, type Io } from './io.ts';
import { openArtifact, TRUST_MANIFEST_HELP } from './open-artifact.ts';

export const predictCommand: CommandModule = {
  register(program, io, setExit) {
    program
      .command('predict <artifact>')
      .description('predict a JSON Lines file of records with an artifact (a folder, or model@alias / model@v3 from the registry)')
      .requiredOption('--input <file>', 'JSON Lines file, one input record per line')
      .option('--output <file>', 'where to write predictions, one per line aligned with the input (default: stdout)')
      .option('--batch-size <n>', 'records per predict call', (v) => Number(v), 256)
      .option('--backend <name>', 'TensorFlow.js backend (default: the one the artifact was trained on)')
      .option('--project <dir>', 'project whose registry resolves model@alias references', '.')
      .option('--trust-manifest', TRUST_MANIFEST_HELP)
      .action(async (ref: string, opts: { input: string; output?: string; batchSize: number; backend?: string; project: string; trustManifest?: boolean }) => {
        setExit(predictAction(io, ref, opts));
      });
  },
};

async function predictAction(io: Io, ref: string, opts: { input: string; output?: string; batchSize: number; backend?: string; project: string; trustManifest?: boolean }): Promise<number> {
  const { predictFile, formatProgress } = await import('../serve/index.ts');
  const artifact = await openArtifact(io, ref, opts.project, { ...(opts.backend ? { backend: opts.backend } : {}), trustManifest: opts.trustManifest ?? false });
  const showProgress = io.isTTY && opts.output !== undefined;
  const started = performance.now();
  const result = await predictFile(artifact, path.resolve(io.cwd, opts.input), opts.output ? path.resolve(io.cwd, opts.output) : process.stdout, {
    batchSize: opts.batchSize,
    ...(showProgress ? { onProgress: (p) => io.err(`\r${formatProgress(p)}`) } : {}),
  });
  if (showProgress) io.err('\n');
  const secs = (performance.now() - started) / 1000;
  io.err(`predicted ${result.records} record(s) with ${artifact.manifest.model} (run ${artifact.manifest.run_id}) in ${secs.toFixed(2)}s${opts.output ? ` → ${opts.output}` : ''}\n`);
  return EXIT_OK;
}
