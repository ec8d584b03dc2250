// A moved clock for the parity replay: an inference path that reads the time (new Date(), Date.now(),
// performance.now()) predicts differently when the clock moves, and the replay then says so.

/** Far enough that years, months, weekdays and hours all change. */
export const CLOCK_SHIFT_MS = ((3 * 365 + 1 + 40) * 24 + 7) * 3_600_000 + 13 * 60_000;
export const CLOCK_SHIFT_TEXT = 'forward by 3 years, 41 days, 7 hours and 13 minutes';

/** Moves Date and performance.now by `shift`; returns what puts them back. */
export function shiftClock(shift = CLOCK_SHIFT_MS): () => void {
  const RealDate = Date;
  const realNow = performance.now.bind(performance);
  function ShiftedDate(this: unknown, ...args: unknown[]): unknown {
    // Date() called without new gives the current time as a string.
    if (!new.target) return new RealDate(RealDate.now() + shift).toString();
    return Reflect.construct(RealDate, args.length ? args : [RealDate.now() + shift], new.target);
  }
  ShiftedDate.prototype = RealDate.prototype;
  ShiftedDate.now = () => RealDate.now() + shift;
  ShiftedDate.parse = RealDate.parse;
  ShiftedDate.UTC = RealDate.UTC;
  globalThis.Date = ShiftedDate as unknown as DateConstructor;
  Object.defineProperty(performance, 'now', { value: () => realNow() + shift, configurable: true, writable: true });
  return () => {
    globalThis.Date = RealDate;
    Object.defineProperty(performance, 'now', { value: realNow, configurable: true, writable: true });
  };
}
