// Run ids: 26 characters of lowercase Crockford base32, 10 of milliseconds then 16 random (a ULID), so ids sort by start time.
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const RANDOM_CHARS = 16;
export const RUN_ID_LENGTH = 26;
export const RUN_ID_PATTERN = /^[0-9abcdefghjkmnpqrstvwxyz]{26}$/;

let lastTime = -1;
let lastRandom: number[] = [];

function encodeTime(ms: number): string {
  let out = '';
  let t = ms;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[t % 32] + out;
    t = Math.floor(t / 32);
  }
  return out;
}

/** A new run id. Within one process ids are strictly increasing even when several start in the same millisecond. */
export function newRunId(now: number = Date.now()): string {
  if (now === lastTime) {
    // Increment the random part instead of drawing a new one, so the order of ids is the order of creation.
    let i = RANDOM_CHARS - 1;
    while (i >= 0 && lastRandom[i] === 31) lastRandom[i--] = 0;
    if (i < 0) throw new Error('run id space for this millisecond is exhausted');
    lastRandom[i]++;
  } else {
    const bytes = randomBytes(RANDOM_CHARS);
    lastRandom = Array.from(bytes, (b) => b & 31);
    lastTime = now;
  }
  return encodeTime(now) + lastRandom.map((d) => ALPHABET[d]).join('');
}

/** The time part of an id, in milliseconds since the epoch. */
export function runIdTime(id: string): number {
  let t = 0;
  for (const c of id.slice(0, 10)) t = t * 32 + ALPHABET.indexOf(c);
  return t;
}

/** Normalises what a person typed as a run id (or prefix): lower case, and Crockford's look-alikes (I, L → 1; O → 0). */
export function normaliseRunIdInput(s: string): string {
  return s.trim().toLowerCase().replace(/[il]/g, '1').replace(/o/g, '0');
}

/** Whether `s` can be (a prefix of) a run id. */
export function isRunIdPrefix(s: string): boolean {
  return s.length > 0 && s.length <= RUN_ID_LENGTH && /^[0-9abcdefghjkmnpqrstvwxyz]+$/.test(s);
}
