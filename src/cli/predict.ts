// `kiln predict <artifact> --input file.jsonl [--output file.jsonl] [--on-error fail|skip]`: batch prediction, streamed,
// with a progress bar.
import path from 'node:path';
import type { CommandModule } from './main.ts';
import { displayPath, EXIT_OK, type Io } from './io.ts';
import { openArtifact, TRUST_MANIFEST_HELP } from './open-artifact.ts';

export const predictCommand: CommandModule = {
  register(program, io, setExit) {
    program
      .command('predict <artifact>')
      .description('predict a JSON Lines file of records with an artifact (a folder, model@alias / model@v3 from the registry, or oci://<registry>/<repository>:<tag> or @sha256:<digest>)')
      .requiredOption('--input <file>', 'JSON Lines file, one input record per line')
      .option('--output <file>', 'where to write predictions, one per line aligned with the input (default: stdout)')
      .option('--batch-size <n>', 'records per predict call', (v) => Number(v), 256)
      .option('--backend <name>', 'TensorFlow.js backend (default: the one the artifact was trained on)')
      .option('--project <dir>', 'project whose registry resolves model@alias references', '.')
      .option('--trust-manifest', TRUST_MANIFEST_HELP)
      .option('--on-error <mode>', "a bad input line: 'fail' lists the bad lines and writes no output file; 'skip' writes null for it and lists it in the errors file", 'fail')
      .option('--errors <file>', "with --on-error skip, where the bad lines go (JSON Lines; default: <output or input>.errors.jsonl)")
      .action(async (ref: string, opts: PredictFlags) => {
        setExit(predictAction(io, ref, opts));
      });
  },
};

interface PredictFlags {
  input: string;
  output?: string;
  batchSize: number;
  backend?: string;
  project: string;
  onError: string;
  errors?: string;
  trustManifest?: boolean;
}

/** The errors file beside the output (or the input, when predictions go to stdout): out.jsonl → out.errors.jsonl. */
export function defaultErrorsPath(output: string | undefined, input: string): string {
  const base = output ?? input;
  return path.join(path.dirname(base), `${path.basename(base).replace(/\.jsonl?$/, '')}.errors.jsonl`);
}

async function predictAction(io: Io, ref: string, opts: PredictFlags): Promise<number> {
  const { predictFile, formatProgress } = await import('../serve/index.ts');
  const { predictFileOptions } = await import('../serve/options.ts');
  // Checked before the artifact is loaded, so that a typo does not cost the model load first.
  const { onError } = predictFileOptions({ onError: opts.onError as 'fail' });
  const errorsPath = onError === 'skip' ? path.resolve(io.cwd, opts.errors ?? defaultErrorsPath(opts.output, opts.input)) : undefined;
  const artifact = await openArtifact(io, ref, opts.project, { ...(opts.backend ? { backend: opts.backend } : {}), trustManifest: opts.trustManifest ?? false });
  const showProgress = io.isTTY && opts.output !== undefined;
  const started = performance.now();
  const result = await predictFile(artifact, path.resolve(io.cwd, opts.input), opts.output ? path.resolve(io.cwd, opts.output) : process.stdout, {
    batchSize: opts.batchSize,
    onError,
    ...(errorsPath ? { errorsPath } : {}),
    ...(showProgress ? { onProgress: (p) => io.err(`\r${formatProgress(p)}`) } : {}),
  });
  if (showProgress) io.err('\n');
  const secs = (performance.now() - started) / 1000;
  io.err(`predicted ${result.records} record(s) with ${artifact.manifest.model} (run ${artifact.manifest.run_id}) in ${secs.toFixed(2)}s${opts.output ? ` → ${opts.output}` : ''}\n`);
  if (errorsPath) io.err(`skipped ${result.skipped} bad line(s) (null in the output)${result.skipped ? `, listed in ${displayPath(io, errorsPath)}` : ''}\n`);
  return EXIT_OK;
}
