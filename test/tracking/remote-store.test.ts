// The object store with an OCI repository behind it (src/tracking/remote-objects.ts), against the real registry:
// what is not here is found there by a HEAD, pulled only when read, verified on the way in, and refused (with nothing
// kept) when its bytes are not the digest's. kiln's object hash is the sha256 of the stored bytes, so it is the digest.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalObjectStore, sha256 } from '../../src/tracking/objects.ts';
import { RemoteBackedObjectStore } from '../../src/tracking/remote-objects.ts';
import { pushRunObjects } from '../../src/tracking/remote-push.ts';
import { NODE_LOG_OUTPUT } from '../../src/tracking/recorder.ts';
import type { RunRecord } from '../../src/tracking/store.ts';
import { OciClient } from '../../src/oci/client.ts';
import { isKilnError } from '../../src/diagnostics/diagnostic.ts';
import { startRegistry, type TestRegistry } from '../helpers/oci-registry.ts';
import { tempDir, writeFiles } from '../helpers/project.ts';

let reg: TestRegistry;
const repo = { repository: 'team/objects' };

beforeAll(async () => {
  reg = await startRegistry('none');
});
afterAll(async () => {
  await reg?.stop();
});

/** A machine that computed objects and pushed them: a local store, each object uploaded under sha256:<hash>. */
async function pushed(objects: { bytes?: string; dir?: Record<string, string> }): Promise<{ hash: string; local: LocalObjectStore }> {
  const local = new LocalObjectStore(tempDir('kiln-objects-a-'));
  let hash: string;
  if (objects.dir) {
    const dir = tempDir('kiln-folder-');
    writeFiles(dir, objects.dir);
    hash = await local.putTree(dir);
    for (const e of (await local.readTree(hash))!) await pushOne(local, e.hash);
  } else hash = await local.putBytes(objects.bytes!);
  await pushOne(local, hash);
  return { hash, local };
}

async function pushOne(local: LocalObjectStore, hash: string): Promise<void> {
  const file = local.objectPath(hash);
  await new OciClient({ registry: reg.host, ...repo }, { push: true, credential: null }).pushBlob(file, `sha256:${hash}`, fs.statSync(file).size);
}

const emptyMachine = () => new RemoteBackedObjectStore(new LocalObjectStore(tempDir('kiln-objects-b-')), new OciClient({ registry: reg.host, ...repo }, { credential: null }));

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'no error';
  } catch (e) {
    if (isKilnError(e)) return `${e.diagnostics[0].code}: ${e.diagnostics[0].message}`;
    throw e;
  }
}

describe('RemoteBackedObjectStore', () => {
  it('answers from the registry without pulling, and pulls an object (verified) only when it is read', async () => {
    const { hash } = await pushed({ bytes: 'features of machine A' });
    const b = emptyMachine();
    expect(await b.hasComplete(hash)).toBe(true);
    expect(await b.hasCompleteHere(hash)).toBe(false);
    expect(await b.size(hash)).toBe(Buffer.byteLength('features of machine A'));
    expect(b.pulled).toEqual([]);
    expect((await b.getBytes(hash)).toString()).toBe('features of machine A');
    expect(b.pulled).toEqual([{ hash, size: 21 }]);
    // Now it is here: read again, nothing more comes.
    expect(await b.hasCompleteHere(hash)).toBe(true);
    await b.getBytes(hash);
    expect(b.pulled).toHaveLength(1);
  });

  it('restores a folder: the tree object, then each file it lists', async () => {
    const { hash, local } = await pushed({ dir: { 'a.json': '[1,2]', 'sub/b.json': '[3]' } });
    const b = emptyMachine();
    const dest = path.join(tempDir('kiln-restore-'), 'out');
    expect(await b.restore(hash, dest)).toBe('tree');
    expect(fs.readFileSync(path.join(dest, 'sub/b.json'), 'utf8')).toBe('[3]');
    const files = (await local.readTree(hash))!.map((e) => e.hash);
    expect(b.pulled.map((p) => p.hash).sort()).toEqual([hash, ...files].sort());
  });

  it('KILN4047 for an object neither here nor on the registry', async () => {
    const missing = sha256('never pushed');
    const b = emptyMachine();
    expect(await b.hasComplete(missing)).toBe(false);
    const got = await codeOf(b.getBytes(missing));
    expect(got.split(':')[0]).toBe('KILN4047');
    expect(got).toBe(`KILN4047: object ${missing} is neither in the local store ${b.local.location} nor on oci://${reg.host}/team/objects`);
  });

  it('refuses a tampered or truncated blob with KILN4046 and keeps nothing of it', async () => {
    const { hash } = await pushed({ bytes: 'x'.repeat(1000) });
    const blob = reg.blobFile(`sha256:${hash}`);
    fs.writeFileSync(blob, 'x'.repeat(999) + 'y');
    const b = emptyMachine();
    expect(await codeOf(b.getBytes(hash))).toMatch(new RegExp(`^KILN4046: refused object sha256:${hash} from oci://${reg.host.replace(/\./g, '\\.')}/team/objects: its content hashes to`));
    expect(await b.has(hash)).toBe(false);
    expect(fs.readdirSync(path.join(b.local.location, 'tmp'))).toEqual([]);
    fs.writeFileSync(blob, 'x'.repeat(500));
    expect(await codeOf(emptyMachine().getBytes(hash))).toContain('KILN4046');
  });
});

describe('pushRunObjects', () => {
  it('sends objects that live in a pack (no file of their own) from their bytes, then the manifest', async () => {
    const local = new LocalObjectStore(tempDir('kiln-objects-packed-'));
    // Written as a run's node outputs are: deferred, then synced as one pack.
    const stats = await local.putBytes('{"mean":0.1,"std":1}', { deferSync: true });
    const log = await local.putBytes('fit: done\n', { deferSync: true });
    await local.sync();
    expect(fs.existsSync(local.objectPath(stats))).toBe(false);
    const run = {
      id: 'run1packed',
      pipeline: 'score',
      startTime: 0,
      endTime: 1,
      git: { commit: null },
      files: [],
      nodes: [{ node: 'fit', cacheHit: false, status: 'FINISHED', outputs: { stats: { object: stats }, [NODE_LOG_OUTPUT]: { object: log } } }],
    } as unknown as RunRecord;
    const client = new OciClient({ registry: reg.host, repository: 'team/packed' }, { push: true, credential: null });
    const outcome = await pushRunObjects(run, local, client);
    expect(outcome.failed).toEqual([]);
    expect(outcome).toMatchObject({ objects: 2, uploaded: 2 });
    for (const hash of [stats, log]) expect(sha256(fs.readFileSync(reg.blobFile(`sha256:${hash}`)))).toBe(hash);
    expect(await client.getManifest('run-run1packed')).not.toBeNull();
  });
});
