// The project's stores for the UI: opened once they exist (a run started after `kiln ui` creates them) and never
// created by the UI, which only reads. The run store is whichever the project is configured with (kiln.yaml's
// `store:` or KILN_STORE): the embedded SQLite store or PostgreSQL.
import { openProjectTracking, type Tracking } from '../tracking/index.ts';
import type { UiStores } from './api.ts';

export interface OpenedStores {
  stores(): Promise<UiStores | null>;
  close(): void;
}

export function projectStores(root: string): OpenedStores {
  let opening: Promise<Tracking | null> | null = null;
  let tracking: Tracking | null = null;
  return {
    async stores() {
      if (!tracking) {
        // One open at a time: concurrent requests share it. A project without an embedded store yet answers null,
        // and is asked again on the next request.
        opening ??= openProjectTracking(root).finally(() => {
          opening = null;
        });
        tracking = await opening;
      }
      return tracking ? { runs: tracking.runs, registry: tracking.registry } : null;
    },
    close() {
      tracking?.close();
      tracking = null;
    },
  };
}
