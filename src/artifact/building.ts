// Where an artifact is built before its parity check passed: a hidden `.<run id>.building-<host>-<pid>-<random>`
// folder beside its final place. The name says whose it is, so that the next build (and `kiln gc`) can tell a folder
// whose process is gone from one still being built.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sha256 } from '../tracking/objects.ts';

/** This host (hashed: folder names are no place for a hostname) and this process. */
const HOST = sha256(os.hostname()).slice(0, 8);
const NAME = /^\.(.+)\.building-([0-9a-f]{8})-(\d+)-[0-9a-f]+$/;

/** A new building folder's path for run `runId`, beside the artifact's final folder. */
export function buildingFolder(finalDir: string, runId: string): string {
  return path.join(path.dirname(finalDir), `.${runId}.building-${HOST}-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** The run, host and process a building folder's name holds; null for any other name. */
export function parseBuildingFolder(name: string): { runId: string; host: string; pid: number } | null {
  const m = NAME.exec(name);
  return m ? { runId: m[1], host: m[2], pid: Number(m[3]) } : null;
}

/** Building folders of this host whose process is gone (killed during a build or its check): never visible, only space. */
export async function sweepAbandonedBuilds(modelDir: string): Promise<void> {
  let names: string[];
  try {
    names = await fs.readdir(modelDir);
  } catch {
    return;
  }
  for (const name of names) {
    const b = parseBuildingFolder(name);
    if (!b || b.host !== HOST) continue;
    try {
      process.kill(b.pid, 0);
      continue;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') continue;
    }
    await fs.rm(path.join(modelDir, name), { recursive: true, force: true });
  }
}
