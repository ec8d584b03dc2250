// Part of bench/remote.ts: a run on "machine B" (a fresh clone with machine A's run records and an empty object store)
// whose nodes are all cached on the objects repository, against the same run on machine A where everything is cached
// locally (A itself, and a fresh clone given A's object store: a cold clone's own costs, hashing inputs and bundling node
// code, without the registry). Two cases: every node skipped (B pulls nothing: no artifact is built, nothing downstream
// reads), and one parameter changed so that the last node re-runs and needs its input (B pulls that one object).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { makeProject } from '../test/helpers/project.ts';
import { cloneProject, warmProject } from '../test/helpers/warm-project.ts';

const NODES = `export function prepare(raw: unknown): number[] {
  return (raw as number[]).map((v) => v * 2 + 0.5);
}

export function summarize(features: number[], offset: number): { total: number } {
  return { total: features.reduce((a, b) => a + b, 0) + offset };
}
`;

const kilnBin = path.resolve(import.meta.dirname, '..', 'bin', 'kiln.js');

/** Seconds a `kiln <args>` child process takes, start to exit, and what it said on stderr. */
function timedKiln(root: string, args: string[], env: Record<string, string>): { s: number; stderr: string } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [kilnBin, ...args], { cwd: root, env: { ...process.env, ...env, NO_COLOR: '1' }, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', maxBuffer: 1 << 26 });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`kiln ${args.join(' ')} failed in ${root}:\n${r.stderr}`);
  return { s, stderr: r.stderr };
}

function setOffset(root: string, offset: number): void {
  fs.writeFileSync(path.join(root, 'pipelines/parameters.yaml'), `offset: ${offset}\n`);
}

const round = (s: number) => +s.toFixed(3);

export async function coldRunOnMachineB(registryHost: string, values: number): Promise<Record<string, unknown>> {
  const remote = `oci://${registryHost}/bench/objects`;
  const env = { KILN_OBJECTS: remote };
  const template = await warmProject(
    makeProject({
      'kiln.yaml': 'name: bench-remote\n',
      'pipelines/catalog.yaml': 'raw: { type: json, path: data/raw.json }\nfeatures: { type: json, path: data/features.json }\nsummary: { type: json, path: data/summary.json }\n',
      'pipelines/parameters.yaml': 'offset: 1\n',
      'pipelines/bench/pipeline.yaml': 'pipeline: bench\nnodes:\n  - { name: prepare, run: ./nodes.ts#prepare, inputs: raw, outputs: features }\n  - { name: summarize, run: ./nodes.ts#summarize, inputs: [features, params:offset], outputs: summary }\n',
      'pipelines/bench/nodes.ts': NODES,
      'data/raw.json': JSON.stringify(Array.from({ length: values }, (_, i) => (i * 7919) % 100_003)),
    }),
  );
  const a = cloneProject(template, 'kiln-bench-a-');
  const computed = timedKiln(a, ['run'], env);
  const featuresBytes = fs.statSync(path.join(a, 'data/features.json')).size;
  // Machine B: a fresh clone with A's run records; `objects` also copies A's object store (a fresh clone that has
  // everything locally: the baseline that separates the registry's cost from the cost of a cold clone).
  const machineB = (objects: boolean) => {
    const b = cloneProject(template, 'kiln-bench-b-');
    for (const f of ['kiln.db', 'kiln.db-wal']) if (fs.existsSync(path.join(a, '.kiln', f))) fs.copyFileSync(path.join(a, '.kiln', f), path.join(b, '.kiln', f));
    if (objects) fs.cpSync(path.join(a, '.kiln', 'objects'), path.join(b, '.kiln', 'objects'), { recursive: true });
    return b;
  };
  const pulledOf = (stderr: string) => /pulled (\d+) object\(s\) \(([^)]+)\)/.exec(stderr)?.slice(1, 3).join(' object(s), ') ?? 'nothing';

  // Every node skipped.
  const localAll = timedKiln(a, ['run'], env);
  const freshAll = timedKiln(machineB(true), ['run'], env);
  const remoteAll = timedKiln(machineB(false), ['run'], env);
  // summarize re-runs and reads features: B pulls it; the baselines have it in their store (A: in place already).
  const [fresh, b] = [machineB(true), machineB(false)];
  for (const root of [a, fresh, b]) setOffset(root, 2);
  const localOne = timedKiln(a, ['run'], env);
  const freshOne = timedKiln(fresh, ['run'], env);
  const remoteOne = timedKiln(b, ['run'], env);
  const ratio = (x: number, y: number) => +(x / y).toFixed(2);
  return {
    project: `2 nodes; features.json ${(featuresBytes / 1e6).toFixed(1)} MB`,
    computedOnAS: round(computed.s),
    allSkipped: {
      localS: round(localAll.s),
      freshCloneLocalObjectsS: round(freshAll.s),
      remoteS: round(remoteAll.s),
      ratioRemoteToLocal: ratio(remoteAll.s, localAll.s),
      ratioRemoteToFreshClone: ratio(remoteAll.s, freshAll.s),
      pulledOnB: pulledOf(remoteAll.stderr),
    },
    lastNodeReruns: {
      localS: round(localOne.s),
      freshCloneLocalObjectsS: round(freshOne.s),
      remoteS: round(remoteOne.s),
      ratioRemoteToLocal: ratio(remoteOne.s, localOne.s),
      ratioRemoteToFreshClone: ratio(remoteOne.s, freshOne.s),
      pulledOnB: pulledOf(remoteOne.stderr),
    },
  };
}
