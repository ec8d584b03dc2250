// What an artifact's manifest.json is checked against: the digest the run that built it recorded (with its parity
// verdict), the digest a caller got from the registry, or, only when asked for, nothing (the manifest is trusted).
import path from 'node:path';
import { diag, KilnError } from '../diagnostics/diagnostic.ts';
import type { RunRecord } from '../tracking/store.ts';

export interface AnchorOptions {
  /** sha256 of manifest.json as recorded by the run that built it or by the registry that published it. */
  digest?: string;
  /**
   * 'manifest': load a folder that no run or registry record anchors (a copy from elsewhere). Every file is still
   * checked against the sha256 its manifest lists; the manifest itself is not checked against anything.
   */
  trust?: 'manifest';
}

/** The verdict a run records for its artifact of `model`: the digest when parity passed, else a KilnError. */
export function passedDigest(run: RunRecord, model: string, artifact: string): string {
  const verdict = run.tags[`parity.${model}`];
  if (verdict !== 'passed') throw new KilnError(diag('KILN6110', { artifact, run: run.id, verdict: verdict ? `parity ${verdict}` : 'no parity verdict' }));
  const digest = run.tags[`digest.${model}`];
  if (!digest) throw new KilnError(diag('KILN6109', { artifact, reason: `run ${run.id} recorded no digest of it (it was built by an older kiln)`, fix: `Rebuild it with \`kiln package ${run.id}\`, which records its digest.` }));
  return digest;
}

type Recorded = { digest: string } | { none: string };

/**
 * An artifact that lives where runs put theirs (<store>/artifacts/<model>/<run-id>) is anchored by that run's record in
 * that store, whatever project or library call opens it.
 */
async function recordedByRun(dir: string): Promise<Recorded> {
  const runId = path.basename(dir);
  const model = path.basename(path.dirname(dir));
  const store = path.dirname(path.dirname(path.dirname(dir)));
  if (path.basename(path.dirname(path.dirname(dir))) !== 'artifacts' || runId.startsWith('.')) return { none: 'it is not in a run store (<store>/artifacts/<model>/<run-id>)' };
  const { openProjectTracking, openTracking, storeExists } = await import('../tracking/index.ts');
  // The folder of a project whose runs are in PostgreSQL (kiln.yaml's URL, or KILN_STORE) holds only objects and
  // artifacts: the run is read where the project records its runs.
  const shared = await sharedStoreOf(store);
  if (!shared && !storeExists(store)) return { none: `there is no run store at ${store}` };
  const tracking = shared ? (await openProjectTracking(path.dirname(store), {}, shared))! : openTracking(store);
  try {
    let run: RunRecord;
    try {
      run = await tracking.runs.getRun(runId);
    } catch {
      return { none: `the run store at ${store} has no run ${runId}` };
    }
    if (run.id !== runId) return { none: `the run store at ${store} has no run ${runId}` };
    return { digest: passedDigest(run, model, dir) };
  } finally {
    tracking.close();
  }
}

/** The PostgreSQL store of the project whose local folder is `store`, or null when its runs are in that folder. */
async function sharedStoreOf(store: string) {
  const { runStoreOf } = await import('../config/run-store.ts');
  const location = runStoreOf(path.dirname(store));
  return location.kind === 'postgres' && location.dir === store ? location : null;
}

/** The digest manifest.json must have; null only when the caller trusts the manifest and no record anchors it. */
export async function anchorOf(dir: string, opts: AnchorOptions = {}): Promise<string | null> {
  if (opts.digest) return opts.digest;
  const recorded = await recordedByRun(dir);
  // A record, where there is one, always wins: trusting the manifest must not override what a run recorded.
  if ('digest' in recorded) return recorded.digest;
  if (opts.trust === 'manifest') return null;
  throw new KilnError(diag('KILN6109', {
    artifact: dir,
    reason: recorded.none,
    fix: 'Open it where its run put it (.kiln/artifacts/<model>/<run-id>) or through the registry (kiln predict <model>@<alias>); from the library, pass the digest its run or the registry recorded (loadArtifact(dir, { digest })). To load it anyway, checking every file against manifest.json but not manifest.json itself: --trust-manifest (kiln predict, kiln serve) or { trust: \'manifest\' } (loadArtifact).',
  }));
}
