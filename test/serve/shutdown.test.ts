// Graceful shutdown in a real child process: SIGTERM while requests are in flight, every one of them answered 200,
// new connections refused, and the process exits 0 on its own.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { invoke } from './support.ts';

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
});
