// `kiln serve <artifact>`: the HTTP scoring server (MLflow's protocol), until SIGTERM or SIGINT drains it.
import type { CommandModule } from './main.ts';
import { EXIT_OK, type Io } from './io.ts';
import { openArtifact, TRUST_MANIFEST_HELP } from './open-artifact.ts';

interface ServeFlags {
  port: string;
  host: string;
  project: string;
  backend?: string;
  maxBatchSize: string;
  maxWaitMs: string;
  maxBodyBytes: string;
  timeoutMs: string;
  trustManifest?: boolean;
}

export const serveCommand: CommandModule = {
  register(program, io, setExit) {
    program
      .command('serve <artifact>')
      .description('serve an artifact over HTTP with MLflow\'s scoring protocol (POST /invocations, GET /ping, /health, /version, /metadata)')
      .option('--port <port>', 'port to listen on (0 picks a free one)', '8080')
      .option('--host <host>', 'address to listen on', '127.0.0.1')
      .option('--max-batch-size <n>', 'most records merged into one predict call', '64')
      .option('--max-wait-ms <ms>', 'how long a request waits for others to join its batch', '0')
      .option('--max-body-bytes <n>', 'largest request body accepted (413 beyond)', String(8 * 1024 * 1024))
      .option('--timeout-ms <ms>', 'request timeout (504 beyond)', '60000')
      .option('--backend <name>', 'TensorFlow.js backend (default: the one the artifact was trained on)')
      .option('--project <dir>', 'project whose registry resolves model@alias references', '.')
      .option('--trust-manifest', TRUST_MANIFEST_HELP)
      .action(async (ref: string, flags: ServeFlags) => {
        setExit(serveAction(io, ref, flags));
      });
  },
};

async function serveAction(io: Io, ref: string, flags: ServeFlags): Promise<number> {
  const { createScoringServer, serveUntilSignal } = await import('../serve/index.ts');
  const artifact = await openArtifact(io, ref, flags.project, { ...(flags.backend ? { backend: flags.backend } : {}), trustManifest: flags.trustManifest ?? false });
  const server = createScoringServer(artifact, {
    maxBodyBytes: Number(flags.maxBodyBytes),
    requestTimeoutMs: Number(flags.timeoutMs),
    batching: { maxBatchSize: Number(flags.maxBatchSize), maxWaitMs: Number(flags.maxWaitMs) },
  });
  const { port, host } = await server.listen(Number(flags.port), flags.host);
  io.err(`serving ${artifact.manifest.model} (run ${artifact.manifest.run_id}, backend ${artifact.backend ?? 'none'}) on http://${host.includes(':') ? `[${host}]` : host}:${port}\n  POST /invocations  GET /ping /health /version /metadata\n`);
  const signal = await serveUntilSignal(server, { onSignal: (s) => io.err(`${s}: finishing requests in flight, then exiting\n`) });
  io.err(`stopped (${signal})\n`);
  return EXIT_OK;
}
