// One sweep timer for all request deadlines: expiry in order, forgotten ones never fire. Fake clock: deterministic.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Deadlines } from '../../src/serve/deadlines.ts';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Deadlines', () => {
  it('expires tracked deadlines once they pass, oldest first, and not the forgotten ones', () => {
    const d = new Deadlines(100);
    const fired: string[] = [];
    const make = (name: string) => ({ expiresAt: Date.now() + 100, expire: () => fired.push(name), deadlinePrev: undefined, deadlineNext: undefined });
    const a = make('a');
    const b = make('b');
    d.track(a);
    d.track(b);
    vi.advanceTimersByTime(40);
    const c = make('c');
    d.track(c);
    d.forget(b);
    d.forget(b); // forgetting twice is harmless
    expect(d.size).toBe(2);
    vi.advanceTimersByTime(60); // a is due now (at most one sweep interval late), c at 140
    expect(fired).toEqual(['a']);
    vi.advanceTimersByTime(30);
    expect(fired).toEqual(['a']);
    vi.advanceTimersByTime(20);
    expect(fired).toEqual(['a', 'c']);
    expect(d.size).toBe(0);
    d.stop();
  });

  it('fires nothing after stop', () => {
    const d = new Deadlines(10);
    let fired = 0;
    d.track({ expiresAt: Date.now() + 10, expire: () => fired++, deadlinePrev: undefined, deadlineNext: undefined });
    d.stop();
    vi.advanceTimersByTime(100);
    expect(fired).toBe(0);
  });
});
