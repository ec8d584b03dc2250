// Serving until the process is told to stop: on SIGTERM or SIGINT the server stops accepting, answers what is in
// flight, and the promise resolves so the CLI can exit 0. A second signal cuts the remaining connections.
import type { ScoringServer } from './server.ts';

export interface ServeUntilSignalOptions {
  signals?: NodeJS.Signals[];
  /** Called when the first signal arrives, before draining (e.g. to print "shutting down"). */
  onSignal?: (signal: NodeJS.Signals) => void;
  /**
   * Another way to be told (a cluster worker hears it from its primary): `drain` acts as a first signal and does
   * nothing once draining, `cut` as a second one. Unlike a signal it is never counted twice, so a worker that got
   * the terminal's SIGINT and then its primary's message does not cut its clients.
   */
  control?: (drain: () => void, cut: () => void) => void;
}

/** Resolves with the signal once the server has closed gracefully. */
export function serveUntilSignal(scoring: ScoringServer, options: ServeUntilSignalOptions = {}): Promise<NodeJS.Signals> {
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  return new Promise((resolve, reject) => {
    let received: NodeJS.Signals | undefined;
    const cut = () => scoring.server.closeAllConnections();
    const drain = (signal: NodeJS.Signals) => {
      if (received !== undefined) return;
      received = signal;
      options.onSignal?.(signal);
      scoring.close().then(() => {
        for (const s of signals) process.removeListener(s, onSignal);
        resolve(signal);
      }, reject);
    };
    const onSignal = (signal: NodeJS.Signals) => {
      // Asked twice: stop waiting for slow clients.
      if (received !== undefined) cut();
      else drain(signal);
    };
    for (const s of signals) process.on(s, onSignal);
    options.control?.(() => drain('SIGTERM'), cut);
  });
}
