// `kiln serve <artifact>`: the HTTP scoring server (MLflow's protocol), in one process or several workers sharing the
// port, until SIGTERM or SIGINT drains it.
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { diag, KilnError } from '../diagnostics/index.ts';
import type { CommandModule } from './main.ts';
import { EXIT_OK, type Io } from './io.ts';
import { checkArtifact, openArtifact, TRUST_MANIFEST_HELP } from './open-artifact.ts';

interface ServeFlags {
  port: string;
  host: string;
  project: string;
  backend?: string;
  workers?: string;
  maxBatchSize: string;
  maxWaitMs: string;
  maxBodyBytes: string;
  timeoutMs: string;
  trustManifest?: boolean;
  drainTimeout: string;
}

/** The numbers the flags give, checked before anything is loaded: a typo is a KILN6120 naming the flag. */
interface ServeNumbers {
  port: number;
  workers: number;
  maxBatchSize: number;
  maxWaitMs: number;
  maxBodyBytes: number;
  timeoutMs: number;
  drainTimeoutMs: number;
}

export const serveCommand: CommandModule = {
  register(program, io, setExit) {
    program
      .command('serve <artifact>')
      .description('serve an artifact over HTTP with MLflow\'s scoring protocol (POST /invocations, GET /ping, /health, /version, /metadata)')
      .option('--port <port>', 'port to listen on (0 picks a free one)', '8080')
      .option('--host <host>', 'address to listen on', '127.0.0.1')
      .option('--workers <n>', 'processes serving the port, each with its own copy of the model (default: the number of cores)')
      .option('--max-batch-size <n>', 'most records merged into one predict call', '64')
      .option('--max-wait-ms <ms>', 'how long a request waits for others to join its batch', '0')
      .option('--max-body-bytes <n>', 'largest request body accepted (413 beyond)', String(8 * 1024 * 1024))
      .option('--timeout-ms <ms>', 'request timeout (504 beyond)', '60000')
      .option('--drain-timeout <seconds>', 'on SIGTERM, how long requests in flight may take before their connections are cut', '30')
      .option('--backend <name>', 'TensorFlow.js backend (default: the one the artifact was trained on)')
      .option('--project <dir>', 'project whose registry (its store, or its oci:// publish.target) resolves model@alias references; <artifact> may also be oci://<registry>/<repository>:<tag>', '.')
      .option('--trust-manifest', TRUST_MANIFEST_HELP)
      .action(async (ref: string, flags: ServeFlags) => {
        // The arguments main() parsed: the workers run this same command line (process.argv is another program's
        // when main() is called in-process).
        const parsed = (program as unknown as { rawArgs?: string[] }).rawArgs;
        setExit(serveAction(io, ref, flags, (parsed?.length ? parsed : process.argv).slice(2)));
      });
  },
};

function number(flag: string, text: string, kind: 'integer' | 'positive integer' | 'non-negative number' | 'positive number', example: string): number {
  const v = text.trim() === '' ? NaN : Number(text);
  const ok = Number.isFinite(v) && (kind === 'integer' ? Number.isInteger(v) && v >= 0 : kind === 'positive integer' ? Number.isInteger(v) && v >= 1 : kind === 'positive number' ? v > 0 : v >= 0);
  if (!ok) throw new KilnError(diag('KILN6120', { flag, expected: `a ${kind}`, actual: text, example: `--${flag} ${example}` }));
  return v;
}

export function serveNumbers(flags: ServeFlags): ServeNumbers {
  return {
    port: number('port', flags.port, 'integer', '8080'),
    workers: flags.workers === undefined ? os.availableParallelism() : number('workers', flags.workers, 'positive integer', String(os.availableParallelism())),
    maxBatchSize: number('max-batch-size', flags.maxBatchSize, 'positive integer', '64'),
    maxWaitMs: number('max-wait-ms', flags.maxWaitMs, 'non-negative number', '0'),
    maxBodyBytes: number('max-body-bytes', flags.maxBodyBytes, 'positive integer', String(8 * 1024 * 1024)),
    timeoutMs: number('timeout-ms', flags.timeoutMs, 'positive number', '60000'),
    drainTimeoutMs: number('drain-timeout', flags.drainTimeout, 'non-negative number', '30') * 1000,
  };
}

function url(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** kiln's own executable, which the workers run. */
const KILN_BIN = fileURLToPath(new URL('../../bin/kiln.js', import.meta.url));

async function serveAction(io: Io, ref: string, flags: ServeFlags, args: string[]): Promise<number> {
  const n = serveNumbers(flags);
  const { runWorkerPool, isServingWorker, leavePool, workerIndex } = await import('../serve/index.ts');
  const worker = isServingWorker();
  if (n.workers > 1 && !worker) {
    // The primary verifies the artifact (a mistake is one diagnostic here, before any fork) but loads no model; the
    // workers (this command again) each open it.
    await checkArtifact(io, ref, flags.project, { trustManifest: flags.trustManifest ?? false });
    const ownScript = process.argv[1] !== undefined && path.resolve(process.argv[1]) === KILN_BIN;
    const result = await runWorkerPool({
      workers: n.workers,
      exec: { file: KILN_BIN, args, execArgv: ownScript ? process.execArgv : [] },
      drainTimeoutMs: n.drainTimeoutMs,
      onListening: (at, count) => io.err(`serving ${at.detail} on ${url(at.host, at.port)} with ${count} workers\n  POST /invocations  GET /ping /health /version /metadata\n`),
      onSignal: (s) => io.err(`${s}: finishing requests in flight, then exiting\n`),
      onWorkerDied: (pid, code, signal) => io.err(`worker ${pid} died (${signal ?? `exit code ${code}`}); starting another\n`),
    });
    if (result.signal) io.err(`stopped (${result.signal})\n`);
    return result.code;
  }
  try {
    const server = await startServing(io, ref, flags, n, worker, workerIndex());
    // Drained. Idle keep-alive connections may still get a last answer until their timeout runs out, and the process
    // ends when they do; a predict call still running past the drain timeout must not keep it alive beyond that.
    setTimeout(() => process.exit(EXIT_OK), server.options.keepAliveTimeoutMs + 1_000).unref();
    return EXIT_OK;
  } finally {
    leavePool(); // a worker that could not start must exit, so that its primary sees it
  }
}

/** One scoring server in this process (the only one, or one worker), until it has drained. */
async function startServing(io: Io, ref: string, flags: ServeFlags, n: ServeNumbers, worker: boolean, index: number | undefined) {
  const { createScoringServer, serveUntilSignal, serveAsWorker } = await import('../serve/index.ts');
  // Every worker opens the same artifact: only the first prints its warnings.
  const quiet = (index ?? 0) > 0;
  const artifact = await openArtifact(quiet ? { ...io, err: () => {} } : io, ref, flags.project, { ...(flags.backend ? { backend: flags.backend } : {}), trustManifest: flags.trustManifest ?? false });
  const server = createScoringServer(artifact, {
    maxBodyBytes: n.maxBodyBytes,
    requestTimeoutMs: n.timeoutMs,
    shutdownTimeoutMs: n.drainTimeoutMs,
    batching: { maxBatchSize: n.maxBatchSize, maxWaitMs: n.maxWaitMs },
  });
  const { port, host } = await server.listen(n.port, flags.host);
  const detail = `${artifact.manifest.model} (run ${artifact.manifest.run_id}, backend ${artifact.backend ?? 'none'})`;
  if (worker) {
    await serveAsWorker(server, { port, host, detail });
  } else {
    io.err(`serving ${detail} on ${url(host, port)}\n  POST /invocations  GET /ping /health /version /metadata\n`);
    const signal = await serveUntilSignal(server, { onSignal: (s) => io.err(`${s}: finishing requests in flight, then exiting\n`) });
    io.err(`stopped (${signal})\n`);
  }
  return server;
}
