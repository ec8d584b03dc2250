// The HTTP scoring server: MLflow's scoring protocol on node:http, with micro-batching, limits, timeouts and a
// graceful close. Every bad request gets its answer and the server goes on serving.
//
// The hot path allocates one object per request (Invocation) and no closures: listeners are shared functions that find
// their Invocation on the request, the batcher hands outputs to the Invocation itself, and one sweep timer serves all
// deadlines. (Under tsx every function expression also costs a defineProperty for its name.)
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import { diag, isKilnError, KilnError } from '../diagnostics/index.ts';
import { kilnVersion } from '../version.ts';
import { MicroBatcher, type BatchSink } from './batcher.ts';
import { Deadlines, type Deadline } from './deadlines.ts';
import { scoringServerOptions, type ScoringServerOptions, type ScoringServerOptionsInput } from './options.ts';
import type { Predictor } from './predictor.ts';
import { bounded } from './echo.ts';
import { checkContentType, ignoredWarning, parseJsonBody, predictionsBody, recordsFromBody, recordsFromCsvBody, ScoringError, validateRecords, type BodyType, type RequestRecords } from './protocol.ts';

export interface ScoringServer {
  readonly server: http.Server;
  readonly batcher: MicroBatcher;
  readonly options: Readonly<ScoringServerOptions>;
  /** Starts listening; port 0 picks a free port. A port in use or not allowed is a KILN6108. */
  listen(port?: number, host?: string): Promise<{ port: number; host: string }>;
  /**
   * Stops accepting connections, answers the requests in flight (draining the batcher), then resolves; past the drain
   * timeout (shutdownTimeoutMs) it cuts what is left. Idle keep-alive connections stay until their keep-alive timeout
   * and a request arriving on one is still answered. Idempotent.
   */
  close(): Promise<void>;
  readonly closing: boolean;
  /** Invocations received and not yet answered. */
  readonly inFlight: number;
}

const ENDPOINTS = 'POST /invocations, GET /ping, GET /health, GET /version, GET /metadata';
/** Names what a successful answer ignored of its request (MLflow logs it; a client sees it here). */
export const WARNING_HEADER = 'X-Kiln-Warning';
/** Bodies smaller than this are read and discarded after an early error answer, so the connection can be reused. */
const DISCARDABLE_BODY = 64 * 1024;
/** After an early answer on a connection we close, how long the rest of the request body is read and dropped, so
 * that closing does not reset the connection before the client has read the answer (a "lingering close"). */
const LINGER_MS = 2_000;
const LINGER_BYTES = 1024 * 1024;

/** What every request of one server shares. */
interface Scoring {
  readonly opts: ScoringServerOptions;
  readonly predictor: Predictor;
  readonly batcher: MicroBatcher;
  readonly deadlines: Deadlines;
  /** The input schema's only property, for MLflow's single-column shorthand; null when it has several. */
  readonly singleField: string | null;
  closing: boolean;
  /** While closing: called each time an invocation is answered, to see whether the drain is done. */
  onIdle: (() => void) | undefined;
}

const kInvocation = Symbol('kiln.invocation');
type CarryingRequest = IncomingMessage & { [kInvocation]?: Invocation };

/** One POST /invocations: reading the body, its deadline, and receiving its outputs from the batcher. */
class Invocation implements Deadline, BatchSink {
  done = false;
  readonly expiresAt: number;
  deadlinePrev: Deadline | undefined = undefined;
  deadlineNext: Deadline | undefined = undefined;
  private size = 0;
  private first: Buffer | undefined = undefined;
  private chunks: Buffer[] | undefined = undefined;
  /** What was ignored of the request (MLflow ignores it too), sent back as a warning header. */
  private warning: string | undefined = undefined;

  constructor(
    private readonly scoring: Scoring,
    private readonly req: CarryingRequest,
    private readonly res: ServerResponse,
    private readonly bodyType: BodyType,
  ) {
    this.expiresAt = Date.now() + scoring.opts.requestTimeoutMs;
  }

  start(): void {
    this.scoring.deadlines.track(this);
    this.req[kInvocation] = this;
    this.req.on('data', onBodyData);
    this.req.on('end', onBodyEnd);
    this.req.on('error', onBodyError);
  }

  data(chunk: Buffer): void {
    this.size += chunk.length;
    if (this.size > this.scoring.opts.maxBodyBytes) {
      this.req.removeListener('data', onBodyData);
      this.finish();
      sendError(this.scoring, this.req, this.res, tooLarge(this.scoring.opts.maxBodyBytes), true);
      return;
    }
    if (this.first === undefined) this.first = chunk;
    else (this.chunks ??= [this.first]).push(chunk);
  }

  end(): void {
    if (this.done) return;
    const text = this.chunks ? Buffer.concat(this.chunks, this.size).toString('utf8') : this.first ? this.first.toString('utf8') : '';
    this.first = this.chunks = undefined;
    if (this.bodyType === 'csv') {
      void recordsFromCsvBody(text, this.scoring.predictor.manifest.input_schema, () => this.done).then(
        (body) => body && this.accept(body),
        (e: unknown) => this.reject(e),
      );
      return;
    }
    let body: RequestRecords;
    try {
      body = recordsFromBody(parseJsonBody(text), this.scoring.singleField);
    } catch (e) {
      return this.reject(e);
    }
    this.accept(body);
  }

  /** Validates the records and queues them for the model. */
  private accept(body: RequestRecords): void {
    if (this.done) return; // timed out while the body was parsed
    if (body.ignored !== undefined) this.warning = ignoredWarning(body.ignored);
    let invalid: ScoringError | null;
    try {
      invalid = validateRecords(body.records, body.format, this.scoring.predictor);
    } catch (e) {
      return this.reject(e);
    }
    if (invalid) return this.answerError(invalid);
    this.scoring.batcher.enqueue(body.records, this);
  }

  private reject(e: unknown): void {
    if (this.done) return;
    if (e instanceof ScoringError) return this.answerError(e);
    this.scoring.opts.onError(e, 'reading a request');
    this.answerError(internalError(e));
  }

  /** The client went away mid-body: nothing to answer, and nothing to predict. */
  abort(): void {
    this.finish();
  }

  deliver(outputs: unknown[]): void {
    if (this.done) return;
    let body: string;
    try {
      body = predictionsBody(outputs);
    } catch (e) {
      this.scoring.opts.onError(e, 'serialising predictions');
      return this.answerError(internalError(e));
    }
    this.finish();
    send(this.scoring, this.res, 200, 'application/json', body, false, this.warning === undefined ? undefined : { [WARNING_HEADER]: this.warning });
  }

  fail(error: unknown): void {
    if (this.done) return; // answered already (timed out), so its records may have been withdrawn
    // The model's message may quote the record it failed on; the answer quotes a bounded part of it.
    if (isKilnError(error)) return this.answerError(new ScoringError(400, 'INVALID_PARAMETER_VALUE', bounded(error.message)));
    this.scoring.opts.onError(error, 'predicting');
    this.answerError(new ScoringError(500, 'INTERNAL_ERROR', `The model failed on this request: ${bounded(error instanceof Error ? error.message : String(error))}`));
  }

  /** Called by the deadline sweep. */
  expire(): void {
    if (this.done || this.res.destroyed) return;
    this.done = true;
    const reading = !this.req.complete;
    // Stop reading a slow body; the connection is closed once the 504 is out.
    if (reading) this.req.removeListener('data', onBodyData);
    const message = `Request processing time exceeded limit (${this.scoring.opts.requestTimeoutMs} ms) while ${reading ? 'receiving the request body' : 'predicting'}.`;
    sendError(this.scoring, this.req, this.res, new ScoringError(504, 'DEADLINE_EXCEEDED', message), reading);
    this.scoring.onIdle?.();
  }

  private answerError(error: ScoringError): void {
    this.finish();
    sendError(this.scoring, this.req, this.res, error);
  }

  private finish(): void {
    this.done = true;
    this.scoring.deadlines.forget(this);
    this.scoring.onIdle?.();
  }
}

// Listeners shared by every request: `this` is the request, which carries its Invocation.
function onBodyData(this: CarryingRequest, chunk: Buffer): void {
  this[kInvocation]!.data(chunk);
}
function onBodyEnd(this: CarryingRequest): void {
  this[kInvocation]!.end();
}
function onBodyError(this: CarryingRequest): void {
  this[kInvocation]!.abort();
}

export function createScoringServer(predictor: Predictor, options: ScoringServerOptionsInput = {}): ScoringServer {
  const opts = scoringServerOptions(options);
  const scoring: Scoring = {
    opts,
    predictor,
    batcher: new MicroBatcher((records) => predictor.predict(records), opts.batching),
    deadlines: new Deadlines(opts.requestTimeoutMs),
    singleField: singlePropertyOf(predictor.manifest.input_schema),
    closing: false,
    onIdle: undefined,
  };
  const { batcher, deadlines } = scoring;
  const versionBody = JSON.stringify({
    kiln_version: kilnVersion,
    model: predictor.manifest.model,
    run_id: predictor.manifest.run_id,
    artifact_kiln_version: predictor.manifest.kiln_version,
  });
  const metadataBody = JSON.stringify(predictor.manifest);
  let closed: Promise<void> | undefined;

  const server = http.createServer({
    requestTimeout: opts.requestTimeoutMs + 5_000, // a backstop: our own deadline sweep answers 504 first
    headersTimeout: Math.min(opts.headersTimeoutMs, opts.requestTimeoutMs + 5_000),
    keepAliveTimeout: opts.keepAliveTimeoutMs,
    // How often Node checks the two timeouts above; its default (30 s) would let a slow client hold on far longer.
    connectionsCheckingInterval: Math.max(100, Math.min(1_000, opts.headersTimeoutMs / 4)),
  });

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const method = req.method;
    switch (path) {
      case '/invocations':
        if (method === 'POST') return invocation(req, res);
        return sendError(scoring, req, res, methodNotAllowed(method, path, 'POST'));
      case '/ping':
      case '/health':
        if (method === 'GET' || method === 'HEAD') return send(scoring, res, 200, 'application/json', '\n', false);
        return sendError(scoring, req, res, methodNotAllowed(method, path, 'GET'));
      case '/version':
        if (method === 'GET' || method === 'HEAD') return send(scoring, res, 200, 'application/json', versionBody, false);
        return sendError(scoring, req, res, methodNotAllowed(method, path, 'GET'));
      case '/metadata':
        if (method === 'GET' || method === 'HEAD') return send(scoring, res, 200, 'application/json', metadataBody, false);
        return sendError(scoring, req, res, methodNotAllowed(method, path, 'GET'));
      default:
        return sendError(scoring, req, res, new ScoringError(404, 'ENDPOINT_NOT_FOUND', `No endpoint ${method} ${bounded(path, 200)}. Endpoints: ${ENDPOINTS}.`));
    }
  }

  function invocation(req: IncomingMessage, res: ServerResponse): void {
    const bodyType = checkContentType(req.headers['content-type']);
    if (bodyType instanceof ScoringError) return sendError(scoring, req, res, bodyType);
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > opts.maxBodyBytes) return sendError(scoring, req, res, tooLarge(opts.maxBodyBytes), true);
    new Invocation(scoring, req, res, bodyType).start();
  }

  server.on('request', onRequest);
  // curl and others send "Expect: 100-continue" before a large body: refuse an oversized one before it is sent.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (!(declared > opts.maxBodyBytes)) res.writeContinue();
    onRequest(req, res);
  });

  return {
    server,
    batcher,
    options: opts,
    get closing() {
      return scoring.closing;
    },
    get inFlight() {
      return deadlines.size;
    },
    listen(port = 0, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        const onError = (e: NodeJS.ErrnoException) => {
          server.removeListener('listening', onListening);
          reject(new KilnError(diag('KILN6108', { host, port, reason: e.code ?? e.message, fix: listenFix(e, port) })));
        };
        const onListening = () => {
          server.removeListener('error', onError);
          const a = server.address();
          resolve({ port: typeof a === 'object' && a ? a.port : port, host });
        };
        server.once('error', onError);
        server.once('listening', onListening);
        server.listen(port, host);
      });
    },
    close() {
      if (closed) return closed;
      scoring.closing = true;
      // Stop accepting, but leave idle keep-alive connections open: closing one while the client's next request is
      // on its way resets that request. A request arriving on one is still answered (with "Connection: close", as
      // every answer from now on), and an idle one ends when the keep-alive timeout the server announced runs out;
      // the process lives on until then. (http.Server.close() would close them at once; net.Server's only stops
      // listening.)
      const stopped = () => {
        deadlines.stop();
        server.close(() => {}); // not listening any more: this only stops Node's own timeout checks
      };
      if (server.listening) net.Server.prototype.close.call(server, stopped);
      else stopped();
      closed = new Promise<void>((resolve) => {
        let done = false;
        let drained = false;
        const finish = () => {
          if (done) return;
          done = true;
          scoring.onIdle = undefined;
          clearTimeout(cutoff);
          resolve();
        };
        const maybeFinish = () => {
          if (drained && deadlines.size === 0) finish();
        };
        scoring.onIdle = maybeFinish;
        void batcher.drain().then(() => {
          drained = true;
          maybeFinish();
        });
        // The drain timeout: past it, slow clients and idle connections are cut.
        const cutoff = setTimeout(() => {
          server.closeAllConnections();
          finish();
        }, opts.shutdownTimeoutMs);
        cutoff.unref();
        maybeFinish();
      });
      return closed;
    },
  };
}

function send(scoring: Scoring, res: ServerResponse, status: number, contentType: string, body: string, close: boolean, extra?: Readonly<Record<string, string>>): void {
  if (res.headersSent || res.destroyed) return;
  if (close || scoring.closing || extra) {
    const connection = close || scoring.closing ? { Connection: 'close' } : undefined;
    res.writeHead(status, { ...extra, 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), ...connection });
  } else {
    res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  }
  res.end(body);
}

function sendError(scoring: Scoring, req: IncomingMessage, res: ServerResponse, error: ScoringError, forceClose = false): void {
  // An answer before the body has been read: small bodies are read and dropped (by Node) to keep the connection;
  // anything larger or of unknown size closes it, after a short linger.
  const close = forceClose || (!req.complete && !(Number(req.headers['content-length'] ?? Infinity) <= DISCARDABLE_BODY));
  send(scoring, res, error.status, error.contentType, error.body, close, error.headers);
  if (close && !req.complete) linger(req);
}

/** Reads and drops what is left of a request body for a short while, then lets the connection go. */
function linger(req: IncomingMessage): void {
  const socket = req.socket;
  let dropped = 0;
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > LINGER_BYTES) socket.destroy();
  });
  req.resume();
  const t = setTimeout(() => socket.destroy(), LINGER_MS);
  t.unref();
  socket.once('close', () => clearTimeout(t));
}

function tooLarge(limit: number): ScoringError {
  return new ScoringError(413, 'BAD_REQUEST', `Request body is larger than the limit of ${limit} bytes. Send fewer records per request, or raise the server's body limit.`);
}

function methodNotAllowed(method: string | undefined, path: string, allowed: string): ScoringError {
  return new ScoringError(405, 'BAD_REQUEST', `Method ${method} is not allowed on ${path}; use ${allowed}.`, { Allow: allowed === 'GET' ? 'GET, HEAD' : allowed });
}

function internalError(e: unknown): ScoringError {
  return new ScoringError(500, 'INTERNAL_ERROR', `Internal error in kiln's scoring server: ${e instanceof Error ? e.message : String(e)}. This is a bug; please report it.`);
}

function listenFix(e: NodeJS.ErrnoException, port: number): string {
  if (e.code === 'EADDRINUSE') return `Another process is listening on port ${port}; stop it, or choose another port (0 picks a free one).`;
  if (e.code === 'EACCES') return `Listening on port ${port} needs privileges; choose a port above 1023.`;
  if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') return 'The host is not an address of this machine; use 127.0.0.1, 0.0.0.0 or one of its interfaces.';
  return 'Check the host and port.';
}

/** The property name when the input schema is an object with exactly one property (MLflow's single-column case). */
function singlePropertyOf(schema: object): string | null {
  const props = (schema as { properties?: unknown }).properties;
  if (typeof props !== 'object' || props === null) return null;
  const keys = Object.keys(props);
  return keys.length === 1 ? keys[0] : null;
}
