// The heartbeat of the runs this process started: a store writes their time now and then, a third of the lease apart,
// so that a store shared by several hosts can tell a run whose host died (its lease expires) from a long one.
import { runLeaseMs } from './liveness.ts';

export class Heartbeats {
  private readonly runs = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  readonly leaseMs: number;

  /** `beat` writes the time of each run; a failure is left to the next write of the run to report. */
  constructor(private readonly beat: (runIds: string[], now: number) => Promise<unknown> | unknown, leaseMs = runLeaseMs()) {
    this.leaseMs = leaseMs;
  }

  add(runId: string): void {
    this.runs.add(runId);
    if (this.timer) return;
    this.timer = setInterval(() => {
      try {
        void Promise.resolve(this.beat([...this.runs], Date.now())).catch(() => {});
      } catch {
        // As above: the run's next write reports a store that cannot be written.
      }
    }, Math.max(30, Math.floor(this.leaseMs / 3)));
    // A heartbeat never keeps a process alive that has nothing else to do.
    this.timer.unref();
  }

  remove(runId: string): void {
    this.runs.delete(runId);
    if (this.runs.size === 0) this.stop();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
