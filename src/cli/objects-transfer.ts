// The lines a command prints about what moved between this machine and the objects repository (kiln.yaml `objects:`).
import type { Io } from './io.ts';
import type { Tracking } from '../tracking/index.ts';

export const bytes = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e3).toFixed(1)} kB`);

/** What this process fetched from the repository because it needed it (inputs, the artifact's fitted state). */
export function reportPulled(io: Io, tracking: Tracking): void {
  const remote = tracking.remote;
  if (remote?.pulled.length) io.err(`pulled ${remote.pulled.length} object(s) (${bytes(remote.pulled.reduce((n, p) => n + p.size, 0))}) from ${remote.remote}\n`);
}
