// Reclaiming space in a store (`kiln gc`): objects, artifacts and temporary files that no listed run needs any more.
// Kept: everything the remaining runs reference (node outputs, trees and the files they list, logged files) and the
// artifacts of those runs. Safe beside a run in progress: nothing younger than the oldest RUNNING run (or than gc
// itself) is removed, and a run that re-uses an existing object marks it as just used (LocalObjectStore.reuse).
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { parseBuildingFolder } from '../artifact/building.ts';
import { HASH_PATTERN, sha256, type LocalObjectStore } from './objects.ts';
import type { PackedObject } from './packs.ts';
import { NODE_LOG_OUTPUT } from './recorder.ts';
import { deleteRunRecords, runsNotDeletable } from './delete-run.ts';
import type { Tracking } from './index.ts';
import type { SqliteRunStore } from './sqlite-store.ts';

/**
 * Slack under the grace cutoff: file times are coarse on some file systems, and a run writes its first object only
 * after its record exists, but the two clocks (SQLite's timestamps and file times) are read at different moments.
 */
export const GC_GRACE_MS = 60_000;

export interface GcOptions {
  /** Keep only the newest N runs (RUNNING runs and runs of registered model versions are always kept). */
  keepLast?: number;
  /** Report what would be removed; remove nothing. */
  dryRun?: boolean;
  /** Now, for the grace cutoff (tests move it). */
  now?: number;
  /** The project root, which registered versions' artifact paths are relative to; the store's parent by default. */
  projectRoot?: string;
}

export interface GcPart {
  count: number;
  bytes: number;
}

export interface GcResult {
  dryRun: boolean;
  /** Runs whose records were (or would be) deleted because of keepLast. */
  runsDeleted: string[];
  objects: GcPart;
  artifacts: GcPart;
  /** Partial writes and build scratch left by processes that died. */
  temporary: GcPart;
  bytes: number;
  /** Objects younger than the cutoff that no run references yet: possibly being written by a run in progress. */
  keptAsRecent: number;
}

interface RunRow {
  id: string;
  status: string;
  start_time: number;
}

export async function collectGarbage(tracking: Tracking<SqliteRunStore>, storeDir: string, opts: GcOptions = {}): Promise<GcResult> {
  const db = tracking.runs.database.db;
  const objects = tracking.objects as LocalObjectStore;
  const dryRun = opts.dryRun ?? false;
  const now = opts.now ?? Date.now();
  const runs = db.prepare('SELECT id, status, start_time FROM runs ORDER BY start_time DESC, id DESC').all() as RunRow[];
  const running = runs.filter((r) => r.status === 'RUNNING');
  const cutoff = Math.min(now, ...running.map((r) => r.start_time)) - GC_GRACE_MS;

  const protectedRuns = new Set([...running.map((r) => r.id), ...runsNotDeletable(tracking).keys()]);
  const runsDeleted = opts.keepLast === undefined ? [] : runs.slice(opts.keepLast).filter((r) => !protectedRuns.has(r.id)).map((r) => r.id);
  if (!dryRun && runsDeleted.length > 0) deleteRunRecords(tracking, runsDeleted);
  const deleted = new Set(runsDeleted);
  const kept = new Set(runs.filter((r) => !deleted.has(r.id)).map((r) => r.id));

  const reachable = await reachableObjects(tracking, kept);
  const result: GcResult = { dryRun, runsDeleted, objects: { count: 0, bytes: 0 }, artifacts: { count: 0, bytes: 0 }, temporary: { count: 0, bytes: 0 }, bytes: 0, keptAsRecent: 0 };

  // Objects: <objects>/ab/cdef…; the tmp folder holds partial writes.
  for (const prefix of await names(objects.location)) {
    const dir = path.join(objects.location, prefix);
    if (prefix === 'tmp') {
      for (const name of await names(dir)) await removeIfOld(path.join(dir, name), cutoff, dryRun, result.temporary);
      continue;
    }
    if (!/^[0-9a-f]{2}$/.test(prefix)) continue;
    for (const rest of await names(dir)) {
      const hash = prefix + rest;
      if (!HASH_PATTERN.test(hash) || reachable.has(hash)) continue;
      if (!(await removeIfOld(path.join(dir, rest), cutoff, dryRun, result.objects))) result.keptAsRecent++;
    }
    if (!dryRun) await fsp.rmdir(dir).catch(() => {}); // only when empty
  }
  await collectPacks(objects, reachable, cutoff, dryRun, result);

  // Artifacts: <store>/artifacts/<model>/<run id>, and `.<run id>.building-…` folders of builds that died.
  const registered = registeredArtifactDirs(tracking, opts.projectRoot ?? path.dirname(storeDir));
  const artifactsDir = path.join(storeDir, 'artifacts');
  for (const model of await names(artifactsDir)) {
    const modelDir = path.join(artifactsDir, model);
    for (const name of await names(modelDir)) {
      const p = path.join(modelDir, name);
      if (registered.has(path.resolve(p))) continue;
      const building = parseBuildingFolder(name);
      if (building) {
        if (!running.some((r) => r.id === building.runId)) await removeIfOld(p, cutoff, dryRun, result.temporary);
      } else if (!kept.has(name)) await removeIfOld(p, cutoff, dryRun, result.artifacts);
    }
  }
  // Build scratch (<store>/tmp/artifact-<run id>-…) of builds that died.
  const scratch = path.join(storeDir, 'tmp');
  for (const name of await names(scratch)) await removeIfOld(path.join(scratch, name), cutoff, dryRun, result.temporary);

  result.bytes = result.objects.bytes + result.artifacts.bytes + result.temporary.bytes;
  return result;
}

/**
 * Packs: one older than the cutoff that holds objects no run needs, or one of several old packs, is rewritten with
 * what is still needed into one new pack (so that the packs of many runs become one, and a reader loads one index),
 * and then removed. The new pack is durable before an old one goes, and an old pack that a run marked as used
 * meanwhile is kept. A pack without an index (a writer died between the two) is a partial write.
 */
async function collectPacks(objects: LocalObjectStore, reachable: ReadonlySet<string>, cutoff: number, dryRun: boolean, result: GcResult): Promise<void> {
  const packs = objects.packs;
  const old: Array<{ id: string; listed: PackedObject[] }> = [];
  let deadInOld = 0;
  for (const id of packs.ids()) {
    let listed: PackedObject[];
    try {
      listed = packs.entries(id);
    } catch (e) {
      // Another gc rewrote it since the listing.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    const dead = listed.filter((o) => !reachable.has(o.hash)).length;
    const mtime = fs.statSync(packs.packPath(id), { throwIfNoEntry: false })?.mtimeMs;
    if (mtime !== undefined && mtime >= cutoff) {
      result.keptAsRecent += dead;
      continue;
    }
    old.push({ id, listed });
    deadInOld += dead;
  }
  if (old.length > 1 || deadInOld > 0) {
    const keep = new Map<string, Buffer>();
    for (const { id, listed } of old) {
      for (const o of listed) {
        if (!reachable.has(o.hash)) {
          result.objects.count++;
          result.objects.bytes += o.length;
          continue;
        }
        if (keep.has(o.hash)) continue;
        const data = packs.read({ ...o, pack: id });
        // A damaged copy is not carried over (writePack checks too); a reader would have refused it anyway.
        if (data && sha256(data) === o.hash) keep.set(o.hash, data);
      }
    }
    if (!dryRun) {
      const written = await objects.writePack([...keep]);
      for (const { id } of old) {
        // The same content makes the same pack: what was just written is not removed.
        if (id === written) continue;
        const mtime = fs.statSync(packs.packPath(id), { throwIfNoEntry: false })?.mtimeMs;
        if (mtime === undefined || mtime < cutoff) packs.remove(id);
      }
    }
  }
  for (const name of await names(packs.dir)) {
    const id = /^([0-9a-f]{64})\.pack$/.exec(name)?.[1];
    if (id && !fs.existsSync(packs.indexPath(id))) await removeIfOld(path.join(packs.dir, name), cutoff, dryRun, result.temporary);
  }
}

/** Every object the runs in `kept` reference: outputs (trees with the files they list), logged files, node logs' files. */
async function reachableObjects(tracking: Tracking<SqliteRunStore>, kept: ReadonlySet<string>): Promise<Set<string>> {
  const db = tracking.runs.database.db;
  const roots: Array<{ object: string; dataset: string | null }> = [];
  const outputs = db
    .prepare('SELECT e.run_id AS run_id, d.dataset AS dataset, d.object AS object FROM node_datasets d JOIN node_executions e ON e.id = d.execution_id WHERE d.object IS NOT NULL')
    .all() as Array<{ run_id: string; dataset: string; object: string }>;
  for (const o of outputs) if (kept.has(o.run_id)) roots.push({ object: o.object, dataset: o.dataset });
  for (const f of db.prepare('SELECT run_id, object FROM files').all() as Array<{ run_id: string; object: string }>) if (kept.has(f.run_id)) roots.push({ object: f.object, dataset: null });

  const reachable = new Set<string>();
  for (const { object, dataset } of roots) {
    if (!HASH_PATTERN.test(object) || reachable.has(object)) continue;
    reachable.add(object);
    if (!(await tracking.objects.has(object))) continue;
    if (dataset === NODE_LOG_OUTPUT) {
      // A node's log lists the files it logged; a later run that skips the node attaches them again from here.
      const log = JSON.parse((await tracking.objects.getBytes(object)).toString('utf8')) as { files?: Array<{ object: string }> };
      for (const f of log.files ?? []) reachable.add(f.object);
      continue;
    }
    const tree = await tracking.objects.readTree(object).catch(() => null);
    for (const e of tree ?? []) reachable.add(e.hash);
  }
  return reachable;
}

/** Artifact folders that registered model versions point at, resolved from the project root. */
function registeredArtifactDirs(tracking: Tracking<SqliteRunStore>, projectRoot: string): Set<string> {
  const rows = tracking.runs.database.db.prepare('SELECT artifact_path FROM model_versions').all() as Array<{ artifact_path: string }>;
  return new Set(rows.map((r) => path.resolve(projectRoot, r.artifact_path)));
}

async function names(dir: string): Promise<string[]> {
  try {
    return await fsp.readdir(dir);
  } catch {
    return [];
  }
}

/** Removes `p` (file or folder) when it was last changed before `cutoff`, counting what it frees; false when kept. */
async function removeIfOld(p: string, cutoff: number, dryRun: boolean, part: GcPart): Promise<boolean> {
  const { newest, bytes } = await measure(p);
  if (newest >= cutoff) return false;
  if (!dryRun) await fsp.rm(p, { recursive: true, force: true });
  part.count++;
  part.bytes += bytes;
  return true;
}

/** Size of a file or folder, and the newest modification time in it. */
async function measure(p: string): Promise<{ newest: number; bytes: number }> {
  let st: fs.Stats;
  try {
    st = await fsp.lstat(p);
  } catch {
    return { newest: Infinity, bytes: 0 };
  }
  if (!st.isDirectory()) return { newest: st.mtimeMs, bytes: st.size };
  let newest = st.mtimeMs;
  let bytes = 0;
  for (const name of await names(p)) {
    const m = await measure(path.join(p, name));
    newest = Math.max(newest, m.newest);
    bytes += m.bytes;
  }
  return { newest, bytes };
}
