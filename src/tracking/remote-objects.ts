// The object store with an OCI repository behind the local one (DVC's remote, on a registry teams already run): what
// is written stays local, and an object missing here is pulled from the repository only when something reads it,
// streamed and checked against its sha256 (kiln's object hash is the sha256 of the stored bytes, so it IS the blob
// digest: no mapping to keep). Pushing a run's objects is remote-push.ts.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { diag, isKilnError, KilnError } from '../diagnostics/diagnostic.ts';
import type { OciClient } from '../oci/client.ts';
import { formatOciReference } from '../oci/reference.ts';
import type { LocalObjectStore, ObjectKind, ObjectStore, PutOptions, TreeEntry } from './objects.ts';

export const digestOf = (hash: string) => `sha256:${hash}`;

export class RemoteBackedObjectStore implements ObjectStore {
  readonly location: string;
  /** oci://registry/repository, for messages. */
  readonly remote: string;
  /** What this store pulled, in order: the run reports it, and tests check that only what was needed came. */
  readonly pulled: Array<{ hash: string; size: number }> = [];
  /** HEAD answers, kept for the process: a cached run asks about the same outputs more than once. */
  private readonly remoteSizes = new Map<string, Promise<number | null>>();
  private readonly pulling = new Map<string, Promise<void>>();

  constructor(
    readonly local: LocalObjectStore,
    private readonly client: OciClient,
  ) {
    this.location = local.location;
    this.remote = formatOciReference({ registry: client.registry, repository: client.repository });
  }

  putBytes(data: Uint8Array | string, opts?: PutOptions): Promise<string> {
    return this.local.putBytes(data, opts);
  }
  putFile(file: string, opts?: PutOptions): Promise<string> {
    return this.local.putFile(file, opts);
  }
  putTree(dir: string, opts?: PutOptions): Promise<string> {
    return this.local.putTree(dir, opts);
  }
  putPath(p: string): Promise<{ hash: string; kind: ObjectKind }> {
    return this.local.putPath(p);
  }
  sync(): Promise<void> {
    return this.local.sync();
  }
  has(hash: string): Promise<boolean> {
    return this.local.has(hash);
  }
  reuse(hash: string): Promise<boolean> {
    return this.local.reuse(hash);
  }
  hasCompleteHere(hash: string): Promise<boolean> {
    return this.local.hasComplete(hash);
  }

  /**
   * Here, or on the repository. For a tree, the tree's blob on the repository is enough: a push uploads a tree's
   * files before the tree, and its manifest (which keeps them all from a registry's garbage collection) after both.
   */
  async hasComplete(hash: string): Promise<boolean> {
    return (await this.local.hasComplete(hash)) || (await this.remoteSize(hash)) !== null;
  }

  async size(hash: string): Promise<number | null> {
    const here = await this.local.size(hash);
    if (here !== null) return here;
    const there = await this.remoteSize(hash);
    return there === null || Number.isNaN(there) ? null : there;
  }

  async getBytes(hash: string): Promise<Buffer> {
    await this.pull(hash);
    return this.local.getBytes(hash);
  }

  async readTree(hash: string): Promise<TreeEntry[] | null> {
    await this.pull(hash);
    return this.local.readTree(hash);
  }

  async restore(hash: string, dest: string): Promise<ObjectKind> {
    await this.pull(hash);
    const tree = await this.local.readTree(hash);
    for (const e of tree ?? []) await this.pull(e.hash);
    return this.local.restore(hash, dest);
  }

  private remoteSize(hash: string): Promise<number | null> {
    let size = this.remoteSizes.get(hash);
    if (!size) {
      size = this.client.blobSize(digestOf(hash));
      this.remoteSizes.set(hash, size);
      size.catch(() => this.remoteSizes.delete(hash));
    }
    return size;
  }

  /** Brings one object into the local store (once, however many readers ask at the same time). */
  private pull(hash: string): Promise<void> {
    let p = this.pulling.get(hash);
    if (!p) {
      p = this.pullOnce(hash).finally(() => this.pulling.delete(hash));
      this.pulling.set(hash, p);
    }
    return p;
  }

  private async pullOnce(hash: string): Promise<void> {
    if (await this.local.has(hash)) return;
    const size = await this.remoteSize(hash);
    if (size === null) throw new KilnError(diag('KILN4047', { hash, path: this.local.location, remote: this.remote }));
    // Named as the local store names its temporaries (<pid>-<16 hex>), so a pull killed half-way is swept like a write.
    const tmpDir = path.join(this.local.location, 'tmp');
    await fs.mkdir(tmpDir, { recursive: true });
    const tmp = path.join(tmpDir, `${process.pid}-${randomBytes(8).toString('hex')}`);
    try {
      // pullBlob hashes while it streams and leaves no file unless the bytes are exactly the digest's.
      await this.client.pullBlob(digestOf(hash), size, tmp, this.remote).catch((e: unknown) => {
        if (isKilnError(e) && e.diagnostics[0]?.code === 'KILN7053') {
          const problem = e.diagnostics[0].message.replace(/^.*?: /, '');
          throw new KilnError(diag('KILN4046', { digest: digestOf(hash), remote: this.remote, problem }));
        }
        throw e;
      });
      const stored = await this.local.putFile(tmp);
      // Checked twice on purpose: putFile names the object by what it read back from disk.
      if (stored !== hash) throw new KilnError(diag('KILN4046', { digest: digestOf(hash), remote: this.remote, problem: `the bytes kept locally hash to ${stored}` }));
      this.pulled.push({ hash, size: (await this.local.size(hash)) ?? 0 });
    } finally {
      await fs.rm(tmp, { force: true });
    }
  }
}
