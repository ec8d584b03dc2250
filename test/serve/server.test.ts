// The scoring server over real HTTP with a real (small) predictor: MLflow request forms, endpoints, every error
// answer, limits and timeouts, and that the server keeps serving after each bad request.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isKilnError } from '../../src/diagnostics/index.ts';
import { createScoringServer } from '../../src/serve/server.ts';
import { kilnVersion } from '../../src/version.ts';
import { invoke, rawExchange, request, start, stillServing, textLengthPredictor, type Running } from './support.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('scoring server: protocol', () => {
  let s: Running;
  const predictor = textLengthPredictor({ poison: 'boom', rejectText: 'not-an-email' });
  beforeAll(async () => {
    s = await start(predictor);
  });
  afterAll(() => s.scoring.close());

  const forms: Array<[string, unknown]> = [
    ['inputs', { inputs: [{ text: 'hello' }, { text: 'hi' }] }],
    ['instances', { instances: [{ text: 'hello' }, { text: 'hi' }] }],
    ['dataframe_records', { dataframe_records: [{ text: 'hello' }, { text: 'hi' }] }],
    ['dataframe_split', { dataframe_split: { columns: ['text'], data: [['hello'], ['hi']] } }],
    ['inputs as columns', { inputs: { text: ['hello', 'hi'] } }],
    ['inputs as single-column values', { inputs: ['hello', 'hi'] }],
  ];
  for (const [name, body] of forms) {
    it(`POST /invocations with ${name}`, async () => {
      const r = await invoke(s.url, body);
      expect(r.status).toBe(200);
      expect(r.contentType).toBe('application/json');
      expect(r.text).toBe('{"predictions":[{"length":5},{"length":2}]}');
    });
  }

  it('accepts a charset and a query string', async () => {
    const r = await request(`${s.url}/invocations?x=1`, { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8' }, body: '{"inputs":[{"text":"é"}]}' });
    expect(r.json).toEqual({ predictions: [{ length: 1 }] });
  });

  it('answers an empty list with no predictions', async () => {
    expect((await invoke(s.url, { inputs: [] })).text).toBe('{"predictions":[]}');
  });

  it('GET /ping and /health answer 200 as MLflow does', async () => {
    for (const path of ['/ping', '/health']) {
      const r = await request(s.url + path);
      expect(r.status).toBe(200);
      expect(r.text).toBe('\n');
    }
    expect((await request(`${s.url}/ping`, { method: 'HEAD' })).status).toBe(200);
  });

  it('GET /version names kiln, the model and the run', async () => {
    const r = await request(`${s.url}/version`);
    expect(r.json).toEqual({ kiln_version: kilnVersion, model: 'text-length', run_id: 'run-1234', artifact_kiln_version: '0.1.0' });
  });

  it('GET /metadata is the manifest', async () => {
    const r = await request(`${s.url}/metadata`);
    expect(r.json).toEqual(predictor.manifest);
  });

  const bad: Array<{ name: string; send: () => Promise<Awaited<ReturnType<typeof invoke>>>; status: number; code?: string; message: RegExp }> = [
    {
      name: 'malformed JSON says where',
      send: () => invoke(s.url, '{"inputs": [{"text": "a"},\n  {"text": }]}'),
      status: 400,
      code: 'BAD_REQUEST',
      message: /^Invalid input\. Ensure that input is a valid JSON formatted string\. Error: expected a value at line 2, column 12, near "}]}"$/,
    },
    { name: 'empty body', send: () => invoke(s.url, ''), status: 400, code: 'BAD_REQUEST', message: /unexpected end of input: expected a value at line 1, column 1/ },
    {
      name: 'unknown body shape lists the accepted keys',
      send: () => invoke(s.url, { records: [{ text: 'a' }] }),
      status: 400,
      code: 'BAD_REQUEST',
      message: /exactly one of the input fields \{'dataframe_split', 'dataframe_records', 'instances', 'inputs'\}\. Received dictionary with input fields: \["records"\]/,
    },
    { name: 'a bare list', send: () => invoke(s.url, [{ text: 'a' }]), status: 400, code: 'BAD_REQUEST', message: /Received a list/ },
    {
      name: 'wrong type names index and field',
      send: () => invoke(s.url, { inputs: [{ text: 'ok' }, { text: 42 }] }),
      status: 400,
      code: 'INVALID_PARAMETER_VALUE',
      message: /^Failed to enforce schema of data: 1 of 2 records invalid: record 1 \(inputs\[1\]\): \/text: must be string$/,
    },
    {
      name: 'missing field names index and field',
      send: () => invoke(s.url, { dataframe_records: [{ body: 'x' }] }),
      status: 400,
      code: 'INVALID_PARAMETER_VALUE',
      message: /record 0 \(dataframe_records\[0\]\): \/text: is required/,
    },
    {
      name: 'wrong type in dataframe_split names the row',
      send: () => invoke(s.url, { dataframe_split: { columns: ['text'], data: [['a'], [null]] } }),
      status: 400,
      code: 'INVALID_PARAMETER_VALUE',
      message: /record 1 \(dataframe_split\.data\[1\]\): \/text: must be string/,
    },
    { name: 'a model failure is a 500', send: () => invoke(s.url, { inputs: [{ text: 'boom' }] }), status: 500, code: 'INTERNAL_ERROR', message: /^The model failed on this request: cannot featurize 'boom'$/ },
    { name: 'a model KilnError is a 400', send: () => invoke(s.url, { inputs: [{ text: 'not-an-email' }] }), status: 400, code: 'INVALID_PARAMETER_VALUE', message: /KILN6101: .*is not an email/ },
    { name: 'wrong path', send: () => request(`${s.url}/predict`, { method: 'POST' }), status: 404, code: 'ENDPOINT_NOT_FOUND', message: /^No endpoint POST \/predict\. Endpoints: POST \/invocations, GET \/ping/ },
    { name: 'wrong method', send: () => request(`${s.url}/invocations`), status: 405, code: 'BAD_REQUEST', message: /^Method GET is not allowed on \/invocations; use POST\.$/ },
    { name: 'POST /ping', send: () => request(`${s.url}/ping`, { method: 'POST', body: 'x' }), status: 405, code: 'BAD_REQUEST', message: /use GET/ },
  ];
  for (const c of bad) {
    it(`${c.status}: ${c.name}, then keeps serving`, async () => {
      const r = await c.send();
      expect(r.status).toBe(c.status);
      expect(r.contentType).toBe('application/json');
      expect(r.json.error_code).toBe(c.code);
      expect(r.json.message).toMatch(c.message);
      if (c.status === 405) expect(r.headers.get('allow')).toMatch(/^(POST|GET, HEAD)$/);
      await stillServing(s.url);
    });
  }

  it('415 for other content types, in MLflow words, then keeps serving', async () => {
    const r = await invoke(s.url, 'text=hello', 'text/plain');
    expect(r.status).toBe(415);
    expect(r.contentType).toMatch(/^text\/plain/);
    expect(r.text).toBe("This predictor only supports the following content types: Types: ['text/csv', 'application/json']. Got 'text/plain'.");
    const noType = await request(`${s.url}/invocations`, { method: 'POST', body: new Uint8Array(Buffer.from('{"inputs":[]}')) });
    expect(noType.status).toBe(415);
    expect((await invoke(s.url, '{}', 'application/json; charset=iso-8859-1')).text).toBe('The scoring server only supports UTF-8');
    await stillServing(s.url);
  });

  it('isolates a failing request from the others in its batch', async () => {
    const before = predictor.calls.length;
    const replies = await Promise.all(['a', 'boom', 'ccc', 'dd'].map((text) => invoke(s.url, { inputs: [{ text }] })));
    expect(replies.map((r) => r.status)).toEqual([200, 500, 200, 200]);
    expect(replies[2].json).toEqual({ predictions: [{ length: 3 }] });
    expect(predictor.calls.length).toBeGreaterThan(before);
  });
});

describe('scoring server: limits and timeouts', () => {
  let s: Running;
  const predictor = textLengthPredictor({ slowText: 'slow', slowMs: 1_000 });
  beforeAll(async () => {
    s = await start(predictor, { requestTimeoutMs: 500, headersTimeoutMs: 400 });
  });
  afterAll(() => s.scoring.close());

  it('413 for a 10 MB body under the default 8 MiB limit, without reading it all', async () => {
    const d = await start(textLengthPredictor());
    let bytesRead = 0;
    d.scoring.server.on('connection', (socket) => socket.on('close', () => (bytesRead += socket.bytesRead)));
    const body = JSON.stringify({ inputs: [{ text: 'x'.repeat(10_000_000) }] });
    const r = await invoke(d.url, body);
    expect(r.status).toBe(413);
    expect(r.json).toEqual({ error_code: 'BAD_REQUEST', message: expect.stringContaining('larger than the limit of 8388608 bytes') });
    await stillServing(d.url);
    await d.scoring.close();
    expect(bytesRead).toBeLessThan(4_000_000); // refused on Content-Length: the body was not read
  });

  it('413 for a chunked body once it passes the limit, without buffering the rest', async () => {
    const d = await start(textLengthPredictor(), { maxBodyBytes: 100_000 });
    let bytesRead = 0;
    d.scoring.server.on('connection', (socket) => socket.on('close', () => (bytesRead += socket.bytesRead)));
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 10_000_000) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const r = await request(`${d.url}/invocations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' } as RequestInit);
    expect(r.status).toBe(413);
    expect(r.json.message).toContain('larger than the limit of 100000 bytes');
    await stillServing(d.url);
    await d.scoring.close();
    expect(bytesRead).toBeLessThan(3_000_000);
  });

  it('413 before the body is sent when the client expects 100-continue', async () => {
    const { response } = await rawExchange(s.port, (socket) =>
      socket.write('POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 20000000\r\nExpect: 100-continue\r\n\r\n'),
    );
    expect(response).toMatch(/^HTTP\/1\.1 413 /);
    expect(response).not.toContain('100 Continue');
    await stillServing(s.url);
  });

  it('504 for a client sending its body byte by byte, then closes that connection and keeps serving', async () => {
    const body = JSON.stringify({ inputs: [{ text: 'drip' }] });
    const { response, closed, ms } = await rawExchange(s.port, (socket) => {
      socket.write(`POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
      let i = 0;
      const drip = setInterval(() => {
        if (socket.destroyed || i >= body.length) return clearInterval(drip);
        socket.write(body[i++]);
      }, 100);
    });
    expect(response).toMatch(/^HTTP\/1\.1 504 /);
    expect(response).toContain('Connection: close');
    expect(response).toContain('"error_code":"DEADLINE_EXCEEDED"');
    expect(response).toContain('while receiving the request body');
    expect(closed).toBe(true);
    expect(ms).toBeLessThan(5_000);
    await stillServing(s.url);
  });

  it('closes a connection whose headers never finish, and keeps serving', async () => {
    const { closed, response } = await rawExchange(s.port, (socket) => {
      socket.write('POST /invocations HTTP/1.1\r\nHost: x\r\n');
      const drip = setInterval(() => (socket.destroyed ? clearInterval(drip) : socket.write('X-Slow: 1\r\n')), 100);
    });
    expect(closed).toBe(true);
    expect(response === '' || /^HTTP\/1\.1 408 /.test(response)).toBe(true);
    await stillServing(s.url);
  });

  it('504 when predict takes longer than the request timeout, and keeps serving', async () => {
    const r = await invoke(s.url, { inputs: [{ text: 'slow' }] });
    expect(r.status).toBe(504);
    expect(r.json).toEqual({ error_code: 'DEADLINE_EXCEEDED', message: 'Request processing time exceeded limit (500 ms) while predicting.' });
    await sleep(700); // the model finishes the slow batch
    await stillServing(s.url);
  });

  it('survives a client that disconnects mid-body, and forgets the request', async () => {
    await rawExchange(s.port, (socket) => {
      socket.write('POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"inputs":');
      setTimeout(() => socket.destroy(), 20);
    });
    await sleep(20);
    expect(s.scoring.inFlight).toBe(0);
    await stillServing(s.url);
  });
});

describe('scoring server: micro-batching over HTTP', () => {
  it('merges concurrent requests into fewer predict calls, each answer aligned with its request', async () => {
    const predictor = textLengthPredictor({ delayMs: 100 });
    const s = await start(predictor);
    const n = 24;
    const replies = await Promise.all(Array.from({ length: n }, (_, i) => invoke(s.url, { inputs: [{ text: 'y'.repeat(i) }] })));
    await s.scoring.close();
    expect(replies.map((r) => r.json.predictions[0].length)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(predictor.calls.reduce((a, b) => a + b, 0)).toBe(n);
    expect(predictor.calls.length).toBeLessThanOrEqual(n / 3);
    expect(Math.max(...predictor.calls)).toBeGreaterThan(1);
  });

  it('with maxWaitMs, requests arriving within the window share one call', async () => {
    const predictor = textLengthPredictor();
    const s = await start(predictor, { batching: { maxWaitMs: 400, maxBatchSize: 64 } });
    const replies = await Promise.all(Array.from({ length: 8 }, (_, i) => invoke(s.url, { instances: [{ text: 'z'.repeat(i) }] })));
    await s.scoring.close();
    expect(replies.every((r, i) => r.json.predictions[0].length === i)).toBe(true);
    expect(predictor.calls).toEqual([8]);
  });
});

describe('scoring server: startup', () => {
  it('KILN6108 when the port is taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    const scoring = createScoringServer(textLengthPredictor());
    let error: unknown;
    try {
      await scoring.listen(port, '127.0.0.1');
    } catch (e) {
      error = e;
    }
    blocker.close();
    expect(isKilnError(error)).toBe(true);
    const d = (error as { diagnostics: Array<{ code: string; message: string; hint: string }> }).diagnostics[0];
    expect(d.code).toBe('KILN6108');
    expect(d.message).toBe(`cannot listen on 127.0.0.1:${port}: EADDRINUSE`);
    expect(d.hint).toContain('0 picks a free one');
  });

  it('KILN6107 for a bad server option', () => {
    let error: unknown;
    try {
      createScoringServer(textLengthPredictor(), { maxBodyBytes: -5 });
    } catch (e) {
      error = e;
    }
    expect((error as { diagnostics: Array<{ code: string; message: string }> }).diagnostics[0]).toMatchObject({
      code: 'KILN6107',
      message: "server option 'maxBodyBytes' must be a positive integer, but is -5",
    });
  });

  it('close() is idempotent and resolves with nothing in flight', async () => {
    const s = await start(textLengthPredictor());
    await stillServing(s.url);
    const a = s.scoring.close();
    expect(s.scoring.close()).toBe(a);
    await a;
    expect(s.scoring.server.listening).toBe(false);
  });
});
