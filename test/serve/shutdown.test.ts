// Graceful shutdown in a real child process: SIGTERM while requests are in flight, every one of them answered 200,
// new connections refused, and the process exits 0 on its own.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { invoke } from './support.ts';
import { kiln } from '../artifact/support.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const fixture = fileURLToPath(new URL('./fixtures/serve-until-signal.ts', import.meta.url));
const root = fileURLToPath(new URL('../../', import.meta.url));

interface Child {
  port: number;
  lines: Array<Record<string, unknown>>;
  /** Resolves once the child reports `n` requests in flight. */
  inFlight: (n: number) => Promise<void>;
  kill: () => void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

async function serveInChild(env: Record<string, string>): Promise<Child> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  let killedAt = 0;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, ms: Date.now() - killedAt })),
  );
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const msg = JSON.parse(line) as Record<string, unknown>;
      lines.push(msg);
      if (typeof msg.port === 'number') resolve(msg.port);
      if (typeof msg.inFlight === 'number') for (const w of waiters.filter((w) => w.n === msg.inFlight)) w.resolve();
    });
    child.on('exit', (code) => reject(new Error(`child exited ${code} before listening`)));
  });
  return {
    port,
    lines,
    inFlight: (n) => (lines.some((l) => l.inFlight === n) ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve }))),
    kill: () => {
      killedAt = Date.now();
      child.kill('SIGTERM');
    },
    exited,
  };
}

describe('serveUntilSignal', () => {
  it('answers every request in flight during predict, then exits 0', async () => {
    const child = await serveInChild({ PREDICT_MS: '600' });
    const url = `http://127.0.0.1:${child.port}`;
    const replies = Array.from({ length: 12 }, (_, i) => invoke(url, { inputs: [{ text: 'q'.repeat(i) }] }));
    await child.inFlight(12); // all received: the first batch is being predicted, the rest queue behind it
    child.kill();
    const answered = await Promise.all(replies);
    expect(answered.map((r) => r.status)).toEqual(Array(12).fill(200));
    expect(answered.map((r) => r.json.predictions[0].length)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    await expect(fetch(`${url}/ping`)).rejects.toThrow(); // no longer accepting
    const exit = await child.exited;
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(child.lines.find((l) => l.signal)).toMatchObject({ signal: 'SIGTERM' });
    expect((child.lines.find((l) => l.signal)!.pending as number) > 0).toBe(true);
    expect(child.lines.at(-1)).toMatchObject({ closed: 'SIGTERM' });
  });

  it('sends records still waiting for a batch at once instead of waiting out maxWaitMs', async () => {
    const child = await serveInChild({ PREDICT_MS: '50', MAX_WAIT_MS: '20000' });
    const url = `http://127.0.0.1:${child.port}`;
    const replies = Array.from({ length: 5 }, (_, i) => invoke(url, { instances: [{ text: 'w'.repeat(i + 1) }] }));
    await child.inFlight(5);
    child.kill();
    const answered = await Promise.all(replies);
    expect(answered.map((r) => r.json.predictions[0].length)).toEqual([1, 2, 3, 4, 5]);
    const exit = await child.exited;
    expect(exit.code).toBe(0);
    expect(exit.ms).toBeLessThan(10_000);
    expect(child.lines.at(-1)).toMatchObject({ closed: 'SIGTERM', calls: [5] });
  });

  it('answers a request that arrives on a keep-alive connection after SIGTERM, with Connection: close, instead of resetting it', async () => {
    const child = await serveInChild({});
    const socket = net.connect(child.port, '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (received += d));
    socket.on('error', () => {});
    const closed = new Promise<boolean>((resolve) => socket.on('close', (hadError) => resolve(hadError)));
    const post = (text: string) => {
      const body = JSON.stringify({ inputs: [{ text }] });
      socket.write(`POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    };
    post('one');
    await until(() => received.includes('{"predictions":[{"length":3}]}'), 'the first answer');
    expect(received).not.toMatch(/connection: close/i); // kept alive, now idle
    child.kill();
    await until(() => child.lines.some((l) => l.closed), 'the drain');
    await sleep(100);
    received = '';
    post('three');
    expect(await closed).toBe(false); // closed cleanly after the answer, not reset
    expect(received).toMatch(/^HTTP\/1\.1 200 /);
    expect(received).toMatch(/\r\nConnection: close\r\n/i);
    expect(received).toContain('{"predictions":[{"length":5}]}');
    expect((await child.exited).code).toBe(0);
  });

  it('cuts requests still running at the drain timeout, and the process exits', async () => {
    const child = await serveInChild({ PREDICT_MS: '60000', DRAIN_TIMEOUT_MS: '300' });
    const reply = invoke(`http://127.0.0.1:${child.port}`, { inputs: [{ text: 'slow' }] }).catch((e: Error) => e);
    await child.inFlight(1);
    child.kill();
    expect(await reply).toBeInstanceOf(Error); // cut: the connection closed without an answer
    const exit = await child.exited;
    expect(exit.code).toBe(0);
    expect(exit.ms).toBeLessThan(9_000); // the drain timeout, then at most the keep-alive timeout; not the minute predict takes
  });
});

describe('kiln serve flags', () => {
  const cases: Array<[string[], string]> = [
    [['--drain-timeout', 'soon'], "kiln serve --drain-timeout must be a non-negative number, but is 'soon'"],
    [['--workers', '0'], "kiln serve --workers must be a positive integer, but is '0'"],
    [['--timeout-ms', '1s'], "kiln serve --timeout-ms must be a positive number, but is '1s'"],
  ];
  it('a bad number is a KILN6120 naming the flag, exit 1, before the artifact is opened', async () => {
    for (const [flags, message] of cases) {
      const r = await kiln(['serve', path.join(root, 'no-such-artifact'), ...flags], root);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr.match(/KILN\d{4}/g)).toEqual(['KILN6120']);
      expect(r.stderr.match(/KILN\d{4}/)![0]).toBe('KILN6120');
      expect(r.stderr).toContain(message);
    }
  });
});
