// A writer killed with SIGKILL at any moment leaves the old state or the new one, whole: never a cut file.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dirForRead } from '../../src/runtime/atomic.ts';
import { tempProject, type TestProject } from './helpers.ts';

const writer = fileURLToPath(new URL('./kill-writer.ts', import.meta.url));
const ROWS = 60_000; // about 60 MB per file

/**
 * Starts the writer, waits until it hands chunk `chunk` of save `during` to the writer, kills it `delayMs` later;
 * returns the last save it reported finished.
 */
function runAndKill(mode: 'file' | 'dir', target: string, during: number, chunk: number, delayMs: number): Promise<{ lastSaved: number; log: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', writer, mode, target, String(ROWS)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    let lastSaved = 0;
    let killing = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      log += d;
      for (const m of d.matchAll(/saved (\d+)/g)) lastSaved = Math.max(lastSaved, Number(m[1]));
      if (!killing && log.includes(`writing ${during} ${chunk}\n`)) {
        killing = true;
        setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.stderr.on('data', (d) => (log += String(d)));
    child.on('error', reject);
    // Never leave a writer filling the disk when the awaited chunk does not come.
    const guard = setTimeout(() => {
      if (!killing) child.kill('SIGKILL');
    }, 20_000);
    child.on('exit', (_code, signal) => {
      clearTimeout(guard);
      if (!killing) return reject(new Error(`chunk ${chunk} of save ${during} never came:\n${log.slice(-2000)}`));
      if (signal !== 'SIGKILL') reject(new Error(`writer ended without being killed:\n${log}`));
      else resolve({ lastSaved, log });
    });
  });
}

function checkWhole(file: string): number {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { seq: number; rows: string[]; end: number };
  expect(doc.end).toBe(doc.seq);
  expect(doc.rows.length).toBe(ROWS);
  return doc.seq;
}

describe('atomic writes under SIGKILL', () => {
  let p: TestProject;
  beforeAll(() => {
    p = tempProject();
  });
  afterAll(() => p.cleanup());

  const leftPartial: boolean[] = [];
  const partialTemps = (folder: string) => readdirSync(folder).filter((n) => n.startsWith('.') && n.endsWith('.tmp'));

  // [save during which to kill, chunk of it (1 MB each, about 60 per save), delay after that chunk]: during the
  // first save (no old file yet) and later ones, early and late in the file, and in the middle of the swap.
  it.each([
    [1, 1, 0],
    [1, 30, 5],
    [2, 2, 0],
    [2, 25, 0],
    [2, 58, 20],
    [3, 40, 60],
  ] as Array<[number, number, number]>)('file: killed during save %i at chunk %i (+%i ms)', async (during, chunk, delay) => {
    const folder = path.join(p.root, `file-${during}-${chunk}-${delay}`);
    const target = path.join(folder, 'big.json');
    const { lastSaved, log } = await runAndKill('file', target, during, chunk, delay);
    leftPartial.push(partialTemps(folder).length > 0);
    if (!existsSync(target)) {
      expect(lastSaved, log).toBe(0);
      return;
    }
    const seq = checkWhole(target);
    // Never older than a save that reported success, never newer than the one in progress.
    expect(seq).toBeGreaterThanOrEqual(lastSaved);
    expect(seq).toBeLessThanOrEqual(lastSaved + 1);
  });

  it.each([
    [1, 20, 0],
    [2, 70, 0],
    [2, 110, 30],
  ] as Array<[number, number, number]>)('folder: killed during swap %i at chunk %i (+%i ms)', async (during, chunk, delay) => {
    const dir = path.join(p.root, `dir-${during}-${chunk}-${delay}`, 'model');
    const { lastSaved, log } = await runAndKill('dir', dir, during, chunk, delay);
    leftPartial.push(partialTemps(path.dirname(dir)).length > 0);
    const readable = await dirForRead(dir);
    if (readable === null) {
      expect(lastSaved, log).toBe(0);
      return;
    }
    expect(readdirSync(readable).sort()).toEqual(['a.json', 'b.json']);
    const a = checkWhole(path.join(readable, 'a.json'));
    const b = checkWhole(path.join(readable, 'b.json'));
    expect(a).toBe(b);
    expect(a).toBeGreaterThanOrEqual(lastSaved);
    expect(a).toBeLessThanOrEqual(lastSaved + 1);
  });

  it('killed writers were cut off in the middle of writing (the cases above test something)', () => {
    expect(leftPartial.length).toBe(9);
    expect(leftPartial.filter(Boolean).length).toBeGreaterThanOrEqual(5);
  });
});
