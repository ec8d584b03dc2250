// Whether the process that started a run still runs: pid and host, plus a start token so that a pid reused by another
// process after a crash (or a reboot) does not keep a dead run RUNNING forever.
import fs from 'node:fs';
import os from 'node:os';

export interface ProcessIdentity {
  hostname: string;
  pid: number;
  /** `<boot id>:<start time in clock ticks>` on Linux; null where the platform does not tell. */
  start: string | null;
}

let bootId: string | null | undefined;

function readBootId(): string | null {
  if (bootId === undefined) {
    try {
      bootId = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      bootId = null;
    }
  }
  return bootId;
}

interface ProcStat {
  state: string;
  startTicks: string;
}

/** Fields of /proc/<pid>/stat; the command name (field 2) may hold spaces and parentheses, so split after its last ')'. */
function readProcStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); field 22 (starttime) is rest[19].
  const state = rest[0];
  const startTicks = rest[19];
  if (!state || !startTicks) return null;
  return { state, startTicks };
}

function startToken(pid: number): string | null {
  const boot = readBootId();
  const stat = readProcStat(pid);
  return boot && stat ? `${boot}:${stat.startTicks}` : null;
}

/** Who we are, as recorded on a run we start. */
export function currentProcess(): ProcessIdentity {
  return { hostname: os.hostname(), pid: process.pid, start: startToken(process.pid) };
}

export type Liveness = 'alive' | 'gone' | 'unknown';

/**
 * `gone` only when sure: same host, and the pid does not exist, is a zombie, or now belongs to a process that started
 * at another time (or the machine rebooted). Runs of other hosts are `unknown`: we cannot see their processes.
 */
export function processLiveness(p: ProcessIdentity): Liveness {
  if (p.hostname !== os.hostname()) return 'unknown';
  if (p.start !== null) {
    const [boot] = p.start.split(':');
    const currentBoot = readBootId();
    if (currentBoot !== null && boot !== currentBoot) return 'gone';
  }
  try {
    process.kill(p.pid, 0);
  } catch (e) {
    // EPERM: the pid exists but belongs to another user; that is still a live process.
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return 'gone';
  }
  const stat = readProcStat(p.pid);
  if (stat) {
    if (stat.state === 'Z' || stat.state === 'X') return 'gone';
    if (p.start !== null && startToken(p.pid) !== p.start) return 'gone';
  }
  return 'alive';
}

/** The environment variable that sets the heartbeat lease, in milliseconds (tests shorten it). */
export const LEASE_ENV = 'KILN_RUN_LEASE_MS';
/** A run of another host whose process has not beaten for this long is KILLED: a process is not seen from elsewhere. */
export const DEFAULT_LEASE_MS = 10 * 60_000;

/** The lease in force: KILN_RUN_LEASE_MS when it is a whole number of at least 100 ms, else the default. */
export function runLeaseMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env[LEASE_ENV]);
  return Number.isSafeInteger(v) && v >= 100 ? v : DEFAULT_LEASE_MS;
}

/**
 * Whether a RUNNING run is dead: on this host (same name, same boot), when its process is gone; elsewhere, when its last
 * heartbeat (or, before any, its last sign of life) is older than the lease.
 */
export function runIsDead(run: ProcessIdentity & { lastSeen: number }, now: number, leaseMs: number): boolean {
  if (run.hostname === os.hostname() && sameBoot(run)) return processLiveness(run) === 'gone';
  return now - run.lastSeen > leaseMs;
}

/**
 * Whether a run recorded on a host of our name was started since this machine booted. Another boot may be a reboot,
 * or another machine of the same name sharing the store (containers often share one): only the lease tells them apart.
 */
function sameBoot(p: ProcessIdentity): boolean {
  const current = readBootId();
  return p.start === null || current === null || p.start.split(':')[0] === current;
}
