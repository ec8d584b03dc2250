// Pushing a run's objects (remote-push.ts) from a store that packs small objects: a packed object has no file of its
// own, and is uploaded from its bytes. One task of a shared run pushes only what its nodes wrote, under its own tag.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalObjectStore } from '../../src/tracking/objects.ts';
import { pushRunObjects, runObjectsTag, taskObjectsTag } from '../../src/tracking/remote-push.ts';
import { OciClient } from '../../src/oci/client.ts';
import { parseOciReference } from '../../src/oci/reference.ts';
import type { NodeExecution, RunRecord } from '../../src/tracking/store.ts';
import { startRegistry, type TestRegistry } from '../helpers/oci-registry.ts';
import { tempDir } from './helpers.ts';

let registry: TestRegistry;
beforeAll(async () => {
  registry = await startRegistry('none');
}, 60_000);
afterAll(async () => {
  await registry?.stop();
});

const execution = (id: number, node: string, object: string): NodeExecution => ({
  id, node, status: 'FINISHED', startTime: 1, endTime: 2, fingerprint: null, cacheHit: false, error: null, inputs: {}, outputs: { out: { sha256: object, object } },
});

/** A run record with the executions given: what pushRunObjects reads of it. */
const runWith = (id: string, nodes: NodeExecution[]) => ({ id, pipeline: 'flow', startTime: 1, endTime: null, git: { commit: null }, nodes, files: [] }) as unknown as RunRecord;

describe('pushing run objects', () => {
  it('uploads objects that live in a pack, and a task pushes only its own nodes under a tag of its own', async () => {
    const local = new LocalObjectStore(path.join(tempDir(), 'objects'));
    const left = await local.putBytes('[2,4,6]', { deferSync: true });
    const right = await local.putBytes('[3,6,9]', { deferSync: true });
    await local.sync();
    // Small objects go into a pack: no file of their own.
    expect(fs.existsSync(local.objectPath(left))).toBe(false);
    expect(fs.readdirSync(path.join(local.location, 'packs')).some((f) => f.endsWith('.pack'))).toBe(true);

    const client = () => new OciClient(parseOciReference(`oci://${registry.host}/push/packed`), { push: true });
    const task = { nodes: new Set(['left_branch']) };
    // The other task's output is neither here nor on the registry: a task must not need it.
    const shared = runWith('01shared', [execution(1, 'left_branch', left), execution(2, 'right_branch', 'f'.repeat(64))]);
    const mine = await pushRunObjects(shared, local, client(), task);
    expect(mine.failed).toEqual([]);
    expect(mine).toMatchObject({ objects: 1, uploaded: 1, tag: taskObjectsTag('01shared', task.nodes) });
    expect(mine.tag).toMatch(/^run-01shared-task-[0-9a-f]{12}$/);
    expect(fs.readFileSync(registry.blobFile(`sha256:${left}`), 'utf8')).toBe('[2,4,6]');

    const whole = await pushRunObjects(runWith('01alone', [execution(1, 'left_branch', left), execution(2, 'right_branch', right)]), local, client());
    expect(whole.failed).toEqual([]);
    expect(whole).toMatchObject({ objects: 2, uploaded: 1, present: 1, tag: runObjectsTag('01alone') });
    expect(fs.readFileSync(registry.blobFile(`sha256:${right}`), 'utf8')).toBe('[3,6,9]');
  });
});
