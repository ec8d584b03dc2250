// Serving until the process is told to stop: on SIGTERM or SIGINT the server stops accepting, answers what is in
// flight, and the promise resolves so the CLI can exit 0. A second signal cuts the remaining connections.
import type { ScoringServer } from './server.ts';

export interface ServeUntilSignalOptions {
  signals?: NodeJS.Signals[];
  /** Called when the first signal arrives, before draining (e.g. to print "shutting down"). */
  onSignal?: (signal: NodeJS.Signals) => void;
}

/** Resolves with the signal once the server has closed gracefully. */
export function serveUntilSignal(scoring: ScoringServer, options: ServeUntilSignalOptions = {}): Promise<NodeJS.Signals> {
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  return new Promise((resolve, reject) => {
    let received: NodeJS.Signals | undefined;
    const onSignal = (signal: NodeJS.Signals) => {
      if (received !== undefined) {
        // Asked twice: stop waiting for slow clients.
        scoring.server.closeAllConnections();
        return;
      }
      received = signal;
      options.onSignal?.(signal);
      scoring.close().then(() => {
        for (const s of signals) process.removeListener(s, onSignal);
        resolve(signal);
      }, reject);
    };
    for (const s of signals) process.on(s, onSignal);
  });
}
