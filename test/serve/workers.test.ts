// `kiln serve --workers N`: worker processes sharing one port (node:cluster), started from a fixture that uses the
// same pool as the CLI. Requests reach every worker; SIGTERM drains them all; a worker that cannot start stops the
// pool with its exit code; one that dies while serving is replaced.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { invoke } from './support.ts';

const fixture = fileURLToPath(new URL('./fixtures/serve-workers.ts', import.meta.url));
const root = fileURLToPath(new URL('../../', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Pool {
  port: Promise<number>;
  lines: Array<Record<string, any>>;
  stderr: () => string;
  kill: () => void;
  exited: Promise<{ code: number | null; ms: number }>;
}

function startPool(env: Record<string, string>): Pool {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Array<Record<string, any>> = [];
  let err = '';
  let killedAt = Date.now();
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; ms: number }>((resolve) => child.on('exit', (code) => resolve({ code, ms: Date.now() - killedAt })));
  const port = new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const msg = JSON.parse(line) as Record<string, any>;
      lines.push(msg);
      if (typeof msg.port === 'number') resolve(msg.port);
    });
    child.on('exit', (code) => reject(new Error(`pool exited ${code} before listening: ${err}`)));
  });
  port.catch(() => {});
  return {
    port,
    lines,
    stderr: () => err,
    kill: () => {
      killedAt = Date.now();
      child.kill('SIGTERM');
    },
    exited,
  };
}

/** Requests on fresh connections, so the primary spreads them over the workers. */
async function pidsAnswering(url: string, n: number): Promise<Set<number>> {
  const replies = await Promise.all(
    Array.from({ length: n }, (_, i) => fetch(`${url}/invocations`, { method: 'POST', headers: { 'content-type': 'application/json', connection: 'close' }, body: JSON.stringify({ inputs: [{ text: 'p'.repeat(i) }] }) }).then((r) => r.json() as Promise<{ predictions: Array<{ length: number; pid: number }> }>)),
  );
  replies.forEach((r, i) => expect(r.predictions[0].length).toBe(i));
  return new Set(replies.map((r) => r.predictions[0].pid as number));
}

describe('serving with worker processes', () => {
  it('two workers share one port and both answer; SIGTERM drains both and the primary exits 0', async () => {
    const pool = startPool({ WORKERS: '2', PREDICT_MS: '300' });
    const url = `http://127.0.0.1:${await pool.port}`;
    expect(pool.lines[0]).toMatchObject({ workers: 2, detail: expect.stringMatching(/^text-length in \d+$/) });
    expect((await pidsAnswering(url, 16)).size).toBe(2);
    // In flight in both workers when the signal comes: every one answered.
    const from = pool.lines.length;
    const replies = Array.from({ length: 8 }, (_, i) => invoke(url, { inputs: [{ text: 'q'.repeat(i) }] }));
    // Signalled once every request is being scored: one not yet accepted when the pool stops listening is refused,
    // as for any server; this test is about those in flight.
    while (pool.lines.slice(from).reduce((n, l) => n + (typeof l.predicting === 'number' ? l.predicting : 0), 0) < 8) await sleep(20);
    pool.kill();
    const answered = await Promise.all(replies);
    expect(answered.map((r) => r.status)).toEqual(Array(8).fill(200));
    const exit = await pool.exited;
    expect(exit.code).toBe(0);
    expect(pool.lines.find((l) => l.signal)).toEqual({ signal: 'SIGTERM' });
    expect(pool.lines.at(-1)).toEqual({ exit: { code: 0, signal: 'SIGTERM' } });
  });

  it('a worker that cannot start stops the pool with its exit code, and says why once', async () => {
    const pool = startPool({ WORKERS: '3', FAIL_WORKER: '0' });
    const exit = await pool.exited;
    expect(exit.code).toBe(1);
    expect(pool.lines).toEqual([{ exit: { code: 1 } }]);
    expect(pool.stderr().match(/cannot load the model/g)).toHaveLength(1);
  });

  it('a worker that dies while serving is replaced', async () => {
    const pool = startPool({ WORKERS: '2' });
    const url = `http://127.0.0.1:${await pool.port}`;
    await invoke(url, { inputs: [{ text: 'crash' }] }).catch(() => undefined);
    const t0 = Date.now();
    while (!pool.lines.some((l) => l.died) && Date.now() - t0 < 10_000) await sleep(20);
    expect(pool.lines.find((l) => l.died)).toMatchObject({ code: 3 });
    // The survivor answers meanwhile; then the replacement joins it.
    expect((await pidsAnswering(url, 4)).size).toBeGreaterThanOrEqual(1);
    let pids = new Set<number>();
    while (pids.size < 2 && Date.now() - t0 < 20_000) pids = await pidsAnswering(url, 16);
    expect(pids.size).toBe(2);
    pool.kill();
    expect((await pool.exited).code).toBe(0);
  });
});
