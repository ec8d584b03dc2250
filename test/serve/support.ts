// A small real predictor for the serving tests (ajv-validated `{ text: string }` in, `{ length }` out), and HTTP helpers.
import net from 'node:net';
import { Ajv } from 'ajv';
import { KilnError, diag } from '../../src/diagnostics/index.ts';
import { isKilnError } from '../../src/diagnostics/diagnostic.ts';
import type { Predictor } from '../../src/serve/predictor.ts';
import { createScoringServer, type ScoringServer } from '../../src/serve/server.ts';
import type { ScoringServerOptionsInput } from '../../src/serve/options.ts';

export const inputSchema = {
  type: 'object',
  required: ['text'],
  properties: { text: { type: 'string' } },
  additionalProperties: false,
} as const;

export interface TextLengthPredictor extends Predictor {
  /** Size of each batch predict was called with, in call order. */
  calls: number[];
}

export interface TextLengthOptions {
  /** Milliseconds each predict call takes. */
  delayMs?: number;
  /** predict throws when a batch holds a record with this text (a record the schema accepts but the model cannot take). */
  poison?: string;
  /** predict throws a KilnError (a problem with the data) on this text. */
  rejectText?: string;
  /** A batch holding a record with this text takes slowMs. */
  slowText?: string;
  slowMs?: number;
}

export function textLengthPredictor(options: TextLengthOptions = {}): TextLengthPredictor {
  const validateRecord = new Ajv({ allErrors: false }).compile(inputSchema);
  const validate = (record: unknown): string | null => {
    if (validateRecord(record)) return null;
    const e = validateRecord.errors![0];
    if (e.keyword === 'required') return `${e.instancePath}/${(e.params as { missingProperty: string }).missingProperty}: is required`;
    if (e.keyword === 'additionalProperties') return `${e.instancePath}/${(e.params as { additionalProperty: string }).additionalProperty}: is not allowed`;
    return `${e.instancePath || '/'}: ${e.message}`;
  };
  const calls: number[] = [];
  return {
    calls,
    manifest: { model: 'text-length', run_id: 'run-1234', kiln_version: '0.1.0', input_schema: inputSchema, output_schema: { type: 'object' } },
    validate,
    async predict(records: unknown[]): Promise<unknown[]> {
      calls.push(records.length);
      for (const r of records) {
        const problem = validate(r);
        if (problem) throw new Error(`invalid record: ${problem}`);
      }
      if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
      const texts = records.map((r) => (r as { text: string }).text);
      if (options.slowText !== undefined && texts.includes(options.slowText)) await new Promise((resolve) => setTimeout(resolve, options.slowMs ?? 1_000));
      if (options.poison !== undefined && texts.includes(options.poison)) throw new Error(`cannot featurize '${options.poison}'`);
      if (options.rejectText !== undefined && texts.includes(options.rejectText)) {
        throw new KilnError(diag('KILN6101', { file: 'request', line: 1, problem: `/text: '${options.rejectText}' is not an email` }));
      }
      return texts.map((text) => ({ length: text.length }));
    },
  };
}

export interface Running {
  scoring: ScoringServer;
  port: number;
  url: string;
}

export async function start(predictor: Predictor, options: ScoringServerOptionsInput = {}): Promise<Running> {
  const scoring = createScoringServer(predictor, { onError: () => {}, ...options });
  const { port } = await scoring.listen(0, '127.0.0.1');
  return { scoring, port, url: `http://127.0.0.1:${port}` };
}

export interface Reply {
  status: number;
  contentType: string | null;
  text: string;
  json: any;
  headers: Headers;
}

export async function request(url: string, init: RequestInit = {}): Promise<Reply> {
  const res = await fetch(url, init);
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, contentType: res.headers.get('content-type'), text, json, headers: res.headers };
}

export function invoke(base: string, body: unknown, contentType = 'application/json'): Promise<Reply> {
  return request(`${base}/invocations`, { method: 'POST', headers: { 'content-type': contentType }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

/** The server still answers a normal request correctly (checked after every bad one). */
export async function stillServing(base: string): Promise<void> {
  const r = await invoke(base, { inputs: [{ text: 'still here' }] });
  if (r.status !== 200 || JSON.stringify(r.json) !== '{"predictions":[{"length":10}]}') {
    throw new Error(`server stopped serving: ${r.status} ${r.text}`);
  }
}

/** Sends raw bytes over TCP and collects everything the server sends back until it closes (or `timeoutMs`). */
export function rawExchange(port: number, send: (socket: net.Socket) => void, timeoutMs = 10_000): Promise<{ response: string; closed: boolean; ms: number }> {
  return new Promise((resolve) => {
    const startedAt = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    let response = '';
    const done = (closed: boolean) => {
      clearTimeout(t);
      socket.destroy();
      resolve({ response, closed, ms: Date.now() - startedAt });
    };
    const t = setTimeout(() => done(false), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (response += d));
    socket.on('error', () => {});
    socket.on('close', () => done(true));
    socket.on('connect', () => send(socket));
  });
}

/** The codes and messages an artifact load refused with (it must refuse). */
export async function codesOf(load: Promise<unknown>): Promise<Array<{ code: string; message: string }>> {
  try {
    await load;
  } catch (e) {
    if (isKilnError(e)) return e.diagnostics.map((d) => ({ code: d.code, message: d.message }));
    throw e;
  }
  throw new Error('the artifact was loaded');
}
