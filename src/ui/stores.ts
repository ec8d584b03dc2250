// The project's stores for the UI: opened once they exist (a run started after `kiln ui` creates them) and never
// created by the UI, which only reads.
import { storeDirOf } from '../config/store-dir.ts';
import { openTracking, storeExists, type Tracking } from '../tracking/index.ts';
import type { UiStores } from './api.ts';

export interface OpenedStores {
  stores(): UiStores | null;
  close(): void;
}

export function projectStores(root: string): OpenedStores {
  const dir = storeDirOf(root);
  let tracking: Tracking | null = null;
  return {
    stores() {
      if (!tracking && storeExists(dir)) tracking = openTracking(dir);
      return tracking ? { runs: tracking.runs, registry: tracking.registry } : null;
    },
    close() {
      tracking?.close();
      tracking = null;
    },
  };
}
