// Content tracking for runs on the object store: node code hashes (esbuild bundles), snapshots of what nodes
// write, and the lookups that let a run skip a node whose code, parameters and inputs did not change.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import v8 from 'node:v8';
import type { build as Build } from 'esbuild';
import { kilnSelf } from './kiln-self.ts';
import { installedPackage, packageOf } from './installed-package.ts';
import { writeFileAtomic } from './atomic.ts';
import type { NodeIR } from '../ir/types.ts';
import type { RunStore } from '../tracking/store.ts';
import { hashTree, sha256, type ObjectStore } from '../tracking/objects.ts';
import { kilnVersion } from '../version.ts';
import type { Dataset } from './datasets/types.ts';
import { FileDataset } from './datasets/file.ts';
import { MetricsDataset } from './datasets/metrics.ts';
import type { DatasetLocation } from './datasets/location.ts';
import type { CachedExecution, ContentTracker, Snapshot } from './tracker.ts';

/** Where a file dataset keeps its saved state (load side) and where a restore must write (save side). */
function storageOf(dataset: Dataset<unknown>): { location: DatasetLocation } | null {
  if (dataset instanceof FileDataset) return { location: dataset.location };
  if (dataset instanceof MetricsDataset && dataset.location) return { location: dataset.location };
  return null;
}

interface FileState {
  size: number;
  mtimeMs: number;
  ino: number;
  hash: string;
}

export class ObjectStoreTracker implements ContentTracker {
  private readonly codeHashes = new Map<string, Promise<string>>();
  private fileHashes: Map<string, FileState> | null = null;
  private codeStates: Record<string, CodeState> = {};
  private dirty = false;

  /** `stateFile` keeps file hashes between runs (DVC's state): an unchanged large input is not read again. */
  constructor(
    private readonly root: string,
    private readonly runs: RunStore,
    private readonly objects: ObjectStore,
    private readonly stateFile: string | null = null,
  ) {}

  private async state(): Promise<Map<string, FileState>> {
    if (!this.fileHashes) {
      this.fileHashes = new Map();
      if (this.stateFile) {
        try {
          const saved = JSON.parse(await fs.readFile(this.stateFile, 'utf8')) as { files?: Record<string, FileState>; code?: Record<string, CodeState> };
          for (const [k, v] of Object.entries(saved.files ?? {})) this.fileHashes.set(k, v);
          this.codeStates = saved.code ?? {};
        } catch {
          // No state yet, or an unreadable one: hashes are recomputed.
        }
      }
    }
    return this.fileHashes;
  }

  /** Saves the file-hash state for the next run, and syncs snapshots no record took (a run without a recorder). */
  async flush(): Promise<void> {
    await this.objects.sync();
    if (!this.stateFile || !this.dirty) return;
    const files = await this.state();
    await fs.mkdir(path.dirname(this.stateFile), { recursive: true });
    await writeFileAtomic(this.stateFile, JSON.stringify({ files: Object.fromEntries(files), code: this.codeStates }));
    this.dirty = false;
  }

  codeHash(node: NodeIR): Promise<string> {
    let h = this.codeHashes.get(node.func.module);
    if (!h) {
      h = this.state().then(async () => {
        const { hash, state } = await cachedBundleHash(path.join(this.root, node.func.module), this.codeStates);
        if (state) {
          this.codeStates[path.join(this.root, node.func.module)] = state;
          this.dirty = true;
        }
        return hash;
      });
      this.codeHashes.set(node.func.module, h);
    }
    return h;
  }

  /** sha256 of a file, remembered by (size, mtime, inode) like DVC's state so unchanged large inputs are not re-read. */
  private async hashFile(file: string): Promise<string> {
    const st = await fs.stat(file);
    const state = await this.state();
    const known = state.get(file);
    if (known && known.size === st.size && known.mtimeMs === st.mtimeMs && known.ino === st.ino) return known.hash;
    const hash = sha256(await fs.readFile(file));
    state.set(file, { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, hash });
    this.dirty = true;
    return hash;
  }

  async snapshotFiles(dataset: Dataset<unknown>, store: boolean): Promise<Snapshot | null> {
    const storage = storageOf(dataset);
    if (!storage) return null;
    const p = await storage.location.loadPath();
    if (p === null) return null;
    if (!storage.location.folder) {
      const hash = await this.hashFile(p);
      // An object already stored under that hash is not copied again.
      if (!store) return { hash, ref: null };
      if (!(await this.objects.reuse(hash))) await this.objects.putFile(p, { deferSync: true });
      return { hash, ref: hash };
    }
    if (store) {
      const hash = await this.objects.putTree(p, { deferSync: true });
      return { hash, ref: hash };
    }
    // The same hash putTree would store the folder under, so a restored folder compares equal.
    return { hash: await hashTree(p), ref: null };
  }

  async snapshotValue(value: unknown, store: boolean): Promise<Snapshot | null> {
    let bytes: Buffer;
    try {
      bytes = v8.serialize(value);
    } catch {
      return null;
    }
    if (!store) return { hash: sha256(bytes), ref: null };
    // putBytes names the object by the sha256 of the bytes: that is the hash, not computed a second time.
    // Staged: the run recorder syncs a batch of snapshots before it records the nodes that made them.
    const ref = await this.objects.putBytes(bytes, { deferSync: true });
    return { hash: ref, ref };
  }

  async lookup(node: string, fingerprint: string): Promise<CachedExecution | null> {
    const hit = await this.runs.findCachedExecution(node, fingerprint);
    if (!hit) return null;
    const outputs: Record<string, Snapshot> = {};
    for (const [name, o] of Object.entries(hit.outputs)) outputs[name] = { hash: o.sha256, ref: o.object };
    return { fingerprint, runId: hit.runId, outputs };
  }

  async restorableHere(snapshot: Snapshot): Promise<boolean> {
    return !snapshot.ref || !this.objects.hasCompleteHere || this.objects.hasCompleteHere(snapshot.ref);
  }

  async restoreFiles(dataset: Dataset<unknown>, snapshot: Snapshot): Promise<void> {
    const storage = storageOf(dataset);
    if (!storage || !snapshot.ref) throw new Error(`internal error: cannot restore ${dataset.describe().name}`);
    const target = storage.location.savePath();
    await fs.mkdir(path.dirname(target), { recursive: true });
    await this.objects.restore(snapshot.ref, target);
    storage.location.markSaved();
  }

  async restoreValue(snapshot: Snapshot): Promise<unknown> {
    if (!snapshot.ref) throw new Error('internal error: no stored snapshot to restore');
    return v8.deserialize(await this.objects.getBytes(snapshot.ref));
  }
}

/** A code hash and the files (with their size and mtime) it was computed from. */
interface CodeState {
  hash: string;
  inputs: Record<string, [number, number]>;
}

async function unchanged(inputs: Record<string, [number, number]>): Promise<boolean> {
  for (const [file, [size, mtimeMs]] of Object.entries(inputs)) {
    try {
      const st = await fs.stat(file);
      if (st.size !== size || st.mtimeMs !== mtimeMs) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/** The bundle hash of `entry`, reused while none of the files it was bundled from changed (no esbuild run then). */
async function cachedBundleHash(entry: string, states: Record<string, CodeState>): Promise<{ hash: string; state: CodeState | null }> {
  const known = states[entry];
  if (known && (await unchanged(known.inputs))) return { hash: known.hash, state: null };
  const { hash, inputs } = await bundleHash(entry);
  const stats: Record<string, [number, number]> = {};
  for (const f of inputs) {
    const st = await fs.stat(f);
    stats[f] = [st.size, st.mtimeMs];
  }
  return { hash, state: { hash, inputs: stats } };
}

/** The code of a module and the project modules it imports, bundled by esbuild (packages left out, but their versions in), hashed. */
async function bundleHash(entry: string): Promise<{ hash: string; inputs: string[] }> {
  // Loaded on demand: a run whose node code did not change never starts esbuild.
  const { build } = (await import('esbuild')) as { build: typeof Build };
  const result = await build({
    metafile: true,
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    packages: 'external',
    plugins: [kilnSelf],
    logLevel: 'silent',
    legalComments: 'none',
    target: 'node20',
  });
  const h = createHash('sha256').update(`kiln ${kilnVersion}\n`);
  for (const f of result.outputFiles) h.update(f.contents);
  const cwd = process.cwd();
  const inputs = Object.keys(result.metafile.inputs).map((f) => path.resolve(cwd, f));
  // The packages left out of the bundle count by their installed version, so an upgrade re-runs what imports them
  // (kiln plan reads the same versions from the lockfile of each revision); their package.json joins the inputs
  // whose size and mtime decide whether this hash is still good.
  const packages = new Map<string, string>();
  for (const [file, input] of Object.entries(result.metafile.inputs)) {
    for (const imp of input.imports) {
      const name = imp.external ? packageOf(imp.path) : null;
      if (name === null) continue;
      const found = installedPackage(path.dirname(path.resolve(cwd, file)), name);
      packages.set(found ? `${name}@${found.version}` : `${name} (not installed)`, found?.manifest ?? '');
    }
  }
  for (const id of [...packages.keys()].sort()) h.update(`\0package ${id}`);
  for (const manifest of packages.values()) if (manifest && !inputs.includes(manifest)) inputs.push(manifest);
  return { hash: h.digest('hex'), inputs };
}
