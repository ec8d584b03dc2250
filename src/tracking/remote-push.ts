// Pushing a run's objects to the objects repository (kiln.yaml `objects:`): every object its executed nodes wrote, as
// blobs under their sha256 (a blob the registry has is skipped after a HEAD; a tree's files go before the tree), then
// one OCI image manifest listing them all as layers, tagged run-<run id>. The manifest is what keeps the blobs: a
// registry's garbage collection (Distribution's `garbage-collect`, GHCR's and Harbor's retention) deletes blobs no
// manifest references, and tagged manifests are kept even with --delete-untagged. It is written only once every blob
// is in place, so it never references a missing blob; a push that failed half-way is finished by pushing again.
import { createHash } from 'node:crypto';
import { OCI_MANIFEST, type OciClient } from '../oci/client.ts';
import { isKilnError } from '../diagnostics/diagnostic.ts';
import { formatOciReference } from '../oci/reference.ts';
import type { LocalObjectStore } from './objects.ts';
import { NODE_LOG_OUTPUT } from './recorder.ts';
import type { RunRecord } from './store.ts';
import { digestOf } from './remote-objects.ts';

export const RUN_OBJECTS_TYPE = 'application/vnd.kiln.run-objects.v1';
export const OBJECT_LAYER_TYPE = 'application/vnd.kiln.object.v1';
/** The OCI empty descriptor (the bytes `{}`): a manifest whose content is all in its layers has this config. */
const EMPTY_CONFIG = { mediaType: 'application/vnd.oci.empty.v1+json', digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', size: 2 };
const PARALLEL = 4;

export const runObjectsTag = (runId: string) => `run-${runId}`;

export interface PushFailure {
  hash: string;
  /** What the object is, in the run's words (node → dataset, or a run file). */
  owner: string;
  reason: string;
}

export interface PushOutcome {
  remote: string;
  tag: string;
  /** Objects the manifest lists (or would list). */
  objects: number;
  uploaded: number;
  uploadedBytes: number;
  /** Objects the registry had already. */
  present: number;
  failed: PushFailure[];
  /** The manifest's digest; null when nothing was written (nothing to push, or a failure). */
  manifest: string | null;
}

/**
 * The objects a run wrote itself, each with what it is; reused outputs belong to (and were pushed by) the run that
 * computed them. `nodes`: only those these nodes wrote (one task of a shared run; see TaskShare).
 */
export function objectsOfRun(run: RunRecord, nodes?: ReadonlySet<string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const n of run.nodes) {
    if (n.cacheHit || n.status !== 'FINISHED' || (nodes && !nodes.has(n.node))) continue;
    for (const [dataset, o] of Object.entries(n.outputs)) if (o.object && !out.has(o.object)) out.set(o.object, `${n.node} → ${dataset === NODE_LOG_OUTPUT ? 'its log' : dataset}`);
  }
  if (!nodes) for (const f of run.files) if (!out.has(f.object)) out.set(f.object, `file ${f.name}`);
  return out;
}

/**
 * One task of a run several pods share: it pushes only what its own nodes wrote, under a tag of its own. Another
 * task's outputs are not on this disk and may not be on the registry yet (tasks run in parallel), and one run tag
 * rewritten by each task would leave the blobs of the manifests it replaced to the registry's garbage collection.
 */
export interface TaskShare {
  nodes: ReadonlySet<string>;
}

export const taskObjectsTag = (runId: string, nodes: ReadonlySet<string>) =>
  `${runObjectsTag(runId)}-task-${createHash('sha256').update([...nodes].sort().join(',')).digest('hex').slice(0, 12)}`;

interface Layer {
  hash: string;
  owner: string;
  size: number;
}

export async function pushRunObjects(run: RunRecord, local: LocalObjectStore, client: OciClient, task?: TaskShare): Promise<PushOutcome> {
  const remote = formatOciReference({ registry: client.registry, repository: client.repository });
  const tag = task ? taskObjectsTag(run.id, task.nodes) : runObjectsTag(run.id);
  const outcome: PushOutcome = { remote, tag, objects: 0, uploaded: 0, uploadedBytes: 0, present: 0, failed: [], manifest: null };
  // Each tree's files, then the tree: the manifest lists them in that order too.
  const layers = new Map<string, Layer>();
  const trees = new Set<string>();
  for (const [hash, owner] of objectsOfRun(run, task?.nodes)) {
    const tree = (await local.has(hash)) ? await local.readTree(hash).catch(() => null) : null;
    if (tree) trees.add(hash);
    for (const e of tree ?? []) if (!layers.has(e.hash)) layers.set(e.hash, { hash: e.hash, owner: `${owner}/${e.path}`, size: e.size });
    if (!layers.has(hash)) layers.set(hash, { hash, owner, size: (await local.size(hash)) ?? -1 });
  }
  outcome.objects = layers.size;
  if (layers.size === 0) return outcome;

  let unreachable: string | null = null;
  const queue = [...layers.values()];
  const pushOne = async (l: Layer): Promise<void> => {
    if (unreachable) {
      outcome.failed.push({ hash: l.hash, owner: l.owner, reason: unreachable });
      return;
    }
    try {
      if (l.size < 0) {
        // Not on this disk (a run file replayed from another machine's node log): the manifest may still list it if
        // the registry has it.
        const there = await client.blobSize(digestOf(l.hash));
        if (there === null) throw new Error('it is not in the local store either');
        l.size = there;
        outcome.present++;
        return;
      }
      const source = await local.uploadSource(l.hash);
      if (source === null) throw new Error('it is no longer in the local store');
      if (await pushOrRepair(client, source, l.hash, l.size)) {
        outcome.uploaded++;
        outcome.uploadedBytes += l.size;
      } else outcome.present++;
    } catch (e) {
      const reason = isKilnError(e) ? e.diagnostics[0].message : e instanceof Error ? e.message : String(e);
      // A registry that cannot be reached is not asked again for every object.
      if (isKilnError(e) && e.diagnostics[0].code === 'KILN7050') unreachable = reason;
      outcome.failed.push({ hash: l.hash, owner: l.owner, reason });
    }
  };
  // Files before their trees, and no tree after a failure: a tree blob on the registry must mean its files are there
  // too (remote-objects.ts answers for a whole tree from one HEAD).
  await eachLimited(queue.filter((l) => !trees.has(l.hash)), pushOne);
  const treeLayers = queue.filter((l) => trees.has(l.hash));
  if (outcome.failed.length) for (const l of treeLayers) outcome.failed.push({ hash: l.hash, owner: l.owner, reason: 'not sent: files before it failed' });
  else await eachLimited(treeLayers, pushOne);
  if (outcome.failed.length) return outcome;

  try {
    await client.pushBlob(Buffer.from('{}'), EMPTY_CONFIG.digest, EMPTY_CONFIG.size);
    const manifest = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: RUN_OBJECTS_TYPE,
      config: EMPTY_CONFIG,
      layers: queue.map((l) => ({ mediaType: OBJECT_LAYER_TYPE, digest: digestOf(l.hash), size: l.size, annotations: { 'dev.kiln.output': l.owner } })),
      annotations: { 'dev.kiln.run-id': run.id, 'dev.kiln.pipeline': run.pipeline, 'org.opencontainers.image.created': new Date(run.endTime ?? run.startTime).toISOString(), ...(run.git.commit ? { 'org.opencontainers.image.revision': run.git.commit } : {}) },
    };
    outcome.manifest = await client.putManifest(tag, Buffer.from(JSON.stringify(manifest)));
  } catch (e) {
    outcome.failed.push({ hash: '(manifest)', owner: `manifest ${tag}`, reason: isKilnError(e) ? e.diagnostics[0].message : e instanceof Error ? e.message : String(e) });
  }
  return outcome;
}

/**
 * pushBlob, and when the registry cannot even say whether it has the blob (HTTP 5xx to the HEAD: Distribution does so
 * for a blob whose write it was killed in the middle of), the upload anyway: writing the blob again repairs that.
 */
async function pushOrRepair(client: OciClient, source: string | Buffer, hash: string, size: number): Promise<boolean> {
  try {
    return await client.pushBlob(source, digestOf(hash), size);
  } catch (e) {
    const d = isKilnError(e) ? e.diagnostics[0] : null;
    if (d?.code !== 'KILN7052' || !/ HTTP 5\d\d to checking blob /.test(d.message)) throw e;
    return client.pushBlob(source, digestOf(hash), size, { check: false });
  }
}

async function eachLimited<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, worker));
}
