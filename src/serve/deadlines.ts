// Request deadlines with one timer per server instead of one per request: every request gets the same timeout, so
// requests expire in the order they started, and a periodic sweep only has to look at the oldest ones. The deadlines
// form an intrusive doubly linked list (the links live on the tracked objects): tracking allocates nothing.

export interface Deadline {
  /** Date.now() value past which the request has run out of time. */
  readonly expiresAt: number;
  /** Called once, by the sweep, when the deadline passes while the request is still tracked. */
  expire(): void;
  /** Links owned by Deadlines; start them as undefined. */
  deadlinePrev: Deadline | undefined;
  deadlineNext: Deadline | undefined;
}

export class Deadlines {
  readonly timeoutMs: number;
  /** Oldest first: insertion order is deadline order, since all share one timeout. */
  private head: Deadline | undefined = undefined;
  private tail: Deadline | undefined = undefined;
  private count = 0;
  private readonly sweeper: NodeJS.Timeout;

  constructor(timeoutMs: number) {
    this.timeoutMs = timeoutMs;
    // A deadline fires at most a tenth of the timeout late (and at most a second).
    this.sweeper = setInterval(() => this.sweep(), Math.min(1_000, Math.max(5, timeoutMs / 10)));
    this.sweeper.unref();
  }

  track(d: Deadline): void {
    d.deadlinePrev = this.tail;
    d.deadlineNext = undefined;
    if (this.tail) this.tail.deadlineNext = d;
    else this.head = d;
    this.tail = d;
    this.count++;
  }

  /** Stops tracking `d`; harmless when it is not tracked. */
  forget(d: Deadline): void {
    if (d.deadlinePrev === undefined && this.head !== d) return;
    if (d.deadlinePrev) d.deadlinePrev.deadlineNext = d.deadlineNext;
    else this.head = d.deadlineNext;
    if (d.deadlineNext) d.deadlineNext.deadlinePrev = d.deadlinePrev;
    else this.tail = d.deadlinePrev;
    d.deadlinePrev = d.deadlineNext = undefined;
    this.count--;
  }

  get size(): number {
    return this.count;
  }

  /** Stops sweeping; deadlines still tracked never fire. */
  stop(): void {
    clearInterval(this.sweeper);
    while (this.head) this.forget(this.head);
  }

  private sweep(): void {
    const now = Date.now();
    while (this.head && this.head.expiresAt <= now) {
      const d = this.head;
      this.forget(d);
      d.expire();
    }
  }
}
