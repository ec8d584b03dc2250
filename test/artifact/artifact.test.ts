// The inference artifact: built after a run, verified before loading (tampered, missing and extra files refused),
// predicting exactly what training computed, and validating input records.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadArtifact } from '../../src/index.ts';
import { isKilnError } from '../../src/diagnostics/diagnostic.ts';
import { copyFixture, kiln, repoRoot } from './support.ts';

let project: string;
let artifact: string;

async function copyArtifact(): Promise<string> {
  const dir = `${artifact}-copy-${Math.random().toString(36).slice(2)}`;
  await fs.cp(artifact, dir, { recursive: true });
  return dir;
}

// Copies are not in the run store, so no record anchors their manifest: these tests check the files against it.
async function refusal(dir: string): Promise<string> {
  try {
    await loadArtifact(dir, { trust: 'manifest' });
  } catch (e) {
    if (isKilnError(e)) return e.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n');
    throw e;
  }
  throw new Error('the artifact was loaded');
}

beforeAll(async () => {
  project = await copyFixture('scorer');
  const r = await kiln(['run'], project);
  expect(r.code, r.stderr).toBe(0);
  const m = /artifact scorer from run (\w+): (\S+)/.exec(r.stderr);
  expect(m, r.stderr).not.toBeNull();
  artifact = path.resolve(project, m![2]);
  expect(r.stderr).toMatch(/parity: 10 record\(s\) identical to training/);
});

afterAll(async () => {
  if (project) await fs.rm(project, { recursive: true, force: true });
});

describe('artifact', () => {
  it('holds the bundled code, the fitted state, parity records and a manifest of hashes', async () => {
    const manifest = JSON.parse(await fs.readFile(path.join(artifact, 'manifest.json'), 'utf8'));
    expect(manifest.model).toBe('scorer');
    expect(manifest.pipeline).toBe('score');
    expect(Object.keys(manifest.files).sort()).toEqual(['model.mjs', 'parity.jsonl', 'state/stats.json']);
    expect(manifest.nodes.map((n: { name: string }) => n.name)).toEqual(['score']);
    expect(manifest.inference_parameters).toEqual({ 'params:threshold': 0.5 });
    expect(manifest.input_schema.required).toEqual(['x']);
    expect(manifest.metrics.accuracy).toBeGreaterThan(0.5);
    // Parity inputs are business objects: only the input schema's fields (no label).
    const first = JSON.parse((await fs.readFile(path.join(artifact, 'parity.jsonl'), 'utf8')).split('\n')[0]);
    expect(Object.keys(first.input).sort()).toEqual(['id', 'x']);
  });

  it('predicts what training computed, bit for bit, when loaded as a library', async () => {
    const a = await loadArtifact(artifact);
    const pairs = (await fs.readFile(path.join(artifact, 'parity.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    const out = await a.predict(pairs.map((p) => p.input));
    expect(out).toEqual(pairs.map((p) => p.output));
    const training = (await fs.readFile(path.join(project, 'data', 'predictions.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(out).toEqual(training);
    // One record alone gives the same answer as inside the batch.
    expect(await a.predict([pairs[3].input])).toEqual([pairs[3].output]);
  });

  it('validates records against the input schema, naming the record and field', async () => {
    const a = await loadArtifact(artifact);
    expect(a.validate({ x: 1 })).toBeNull();
    expect(a.validate({ x: 'one' })).toBe('/x: must be number');
    expect(a.validate({})).toBe('/x: is required');
    await expect(a.predict([{ x: 1 }, { y: 2 }])).rejects.toThrow(/KILN6007: record 1 is not a valid input: \/x: is required/);
  });

  it('refuses a tampered file', async () => {
    const dir = await copyArtifact();
    const file = path.join(dir, 'state', 'stats.json');
    const stats = JSON.parse(await fs.readFile(file, 'utf8'));
    stats.mean += 1;
    await fs.writeFile(file, JSON.stringify(stats));
    expect(await refusal(dir)).toMatch(/^KILN6002 artifact .* is tampered with: state\/stats.json does not match its sha256/);
  });

  it('refuses tampered code', async () => {
    const dir = await copyArtifact();
    await fs.appendFile(path.join(dir, 'model.mjs'), '\nglobalThis.__kilnTampered = true;\n');
    expect(await refusal(dir)).toMatch(/KILN6002 .*model.mjs/);
    expect((globalThis as Record<string, unknown>).__kilnTampered).toBeUndefined();
  });

  it('refuses a missing file and an extra file', async () => {
    const missing = await copyArtifact();
    await fs.rm(path.join(missing, 'parity.jsonl'));
    expect(await refusal(missing)).toMatch(/^KILN6003 artifact .* is missing parity.jsonl/);
    const extra = await copyArtifact();
    await fs.writeFile(path.join(extra, 'state', 'backdoor.mjs'), 'export default 1;\n');
    expect(await refusal(extra)).toMatch(/^KILN6004 .*state\/backdoor.mjs/);
  });

  it('refuses a folder without a manifest and a broken manifest', async () => {
    expect(await refusal(project)).toMatch(/^KILN6009 no artifact at/);
    const broken = await copyArtifact();
    await fs.writeFile(path.join(broken, 'manifest.json'), '{"format": 1');
    expect(await refusal(broken)).toMatch(/^KILN6005 .*not valid JSON/);
    const wrong = await copyArtifact();
    const m = JSON.parse(await fs.readFile(path.join(wrong, 'manifest.json'), 'utf8'));
    delete m.files;
    await fs.writeFile(path.join(wrong, 'manifest.json'), JSON.stringify(m));
    expect(await refusal(wrong)).toMatch(/^KILN6005 .*files/);
  });

  it('is rebuilt by kiln package, and a run that skips every node still builds one', async () => {
    const runId = path.basename(artifact);
    const r = await kiln(['package', runId.slice(0, 10)], project);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`artifact scorer from run ${runId}`);
    const again = await kiln(['run'], project);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/all skipped as unchanged/);
    expect(again.stderr).toMatch(/parity: 10 record\(s\) identical .*same code, fitted state and records as the artifact of run/);
    // kiln package never inherits a verdict: it checks the cached run's artifact in a fresh process itself.
    const cachedRun = /artifact scorer from run (\w+)/.exec(again.stderr)![1];
    // The cached run's artifact shares the identical one's files (hard links) instead of another copy of each.
    const cachedDir = path.join(project, '.kiln', 'artifacts', 'scorer', cachedRun);
    for (const f of ['model.mjs', 'parity.jsonl', 'state/stats.json']) expect((await fs.stat(path.join(cachedDir, f))).ino, f).toBe((await fs.stat(path.join(artifact, f))).ino);
    const rechecked = await kiln(['package', cachedRun], project);
    expect(rechecked.code, rechecked.stderr).toBe(0);
    expect(rechecked.stderr).toMatch(/parity: 10 record\(s\) identical to training on .* \(checked in fresh processes: .*; \d+\.\ds\)/);
  });

  it('refuses to package an unknown run and a run without the inference path', async () => {
    const unknown = await kiln(['package', 'zzzz'], project);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/KILN4002/);
    const partial = await kiln(['run', '--nodes', 'split,fit'], project);
    expect(partial.code, partial.stderr).toBe(0);
    expect(partial.stderr).toMatch(/no artifact built: this run did not include the whole inference path of model 'scorer'/);
    const list = JSON.parse((await kiln(['runs', 'list', '--json'], project)).stdout);
    const r = await kiln(['package', list[0].id], project);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/KILN6001: run \w+ cannot be packaged: it did not run node 'score' of the inference path/);
  });
});

describe('artifact anchoring and failure modes', () => {
  it('refuses a manifest that is not the one its run recorded (KILN6002), through the library and the CLI', async () => {
    const list = JSON.parse((await kiln(['runs', 'list', '--json'], project)).stdout) as Array<{ id: string }>;
    const runs = await Promise.all(list.map(async (r) => JSON.parse((await kiln(['runs', 'show', r.id, '--json'], project)).stdout)));
    const built = runs.find((r) => r.tags?.['digest.scorer'] && path.resolve(project, r.tags['artifact.scorer']) === artifact);
    expect(built, 'the run that built the artifact records its digest').toBeDefined();
    const digest = built.tags['digest.scorer'];
    expect((await loadArtifact(artifact, { digest })).manifest.model).toBe('scorer');
    // Change a parameter the inference path reads: the files still match the manifest, but the manifest is not the recorded one.
    const file = path.join(artifact, 'manifest.json');
    const m = JSON.parse(await fs.readFile(file, 'utf8'));
    m.inference_parameters['params:threshold'] = 0.99;
    await fs.writeFile(file, JSON.stringify(m, null, 2) + '\n');
    await expect(loadArtifact(artifact, { digest })).rejects.toThrow(/KILN6002: artifact .* is tampered with: manifest.json/);
    const input = path.join(project, 'one.jsonl');
    await fs.writeFile(input, '{"x": 1}\n');
    const r = await kiln(['predict', artifact, '--input', input], project);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/KILN6002: artifact .* is tampered with: manifest.json/);
    // Said once, without the self-reference "manifest.json ... does not match its sha256 in manifest.json".
    expect(r.stderr).toMatch(/tampered with: manifest.json does not match the sha256 [0-9a-f]{12}… recorded when it was built or published/);
  });

  it('warns (KILN6010) and predicts on another backend when the one a format 1 artifact names is not available', async () => {
    // Format 1 left TensorFlow.js to the host: it loads where the project provides it.
    await fs.mkdir(path.join(project, 'node_modules', '@tensorflow'), { recursive: true });
    await fs.symlink(path.join(repoRoot, 'node_modules', '@tensorflow', 'tfjs'), path.join(project, 'node_modules', '@tensorflow', 'tfjs'), 'dir').catch(() => undefined);
    const dir = await copyArtifact();
    const file = path.join(dir, 'manifest.json');
    const m = JSON.parse(await fs.readFile(file, 'utf8'));
    m.format = 1;
    delete m.runtime;
    m.backend = { name: 'tfjs-node', tfjs: '4.22.0' };
    await fs.writeFile(file, JSON.stringify(m, null, 2) + '\n');
    const a = await loadArtifact(dir, { trust: 'manifest' });
    expect(a.warnings.map((w) => w.code)).toEqual(['KILN6112', 'KILN6010']);
    expect(a.warnings[1].message).toMatch(/built on backend tfjs-node, which is not available here; predicting on (wasm|cpu|webgpu)/);
    expect(await a.predict([{ x: 0 }])).toHaveLength(1);
  });
});

describe('packaging failures', () => {
  it('fails the build with KILN6006 naming the first differing record when node code is not deterministic', async () => {
    // The time the process started: never the same in training and in the parity check's fresh process.
    const dir = await copyFixture('scorer');
    const nodes = path.join(dir, 'pipelines', 'score', 'nodes.ts');
    await fs.writeFile(nodes, (await fs.readFile(nodes, 'utf8')).replace('const z = (r.x - args.stats.mean) / args.stats.std;', 'const z = (r.x - args.stats.mean) / args.stats.std + ((globalThis as unknown as { performance: { timeOrigin: number } }).performance.timeOrigin % 1000) * 1e-9;'));
    const r = await kiln(['run'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/KILN6006: parity check failed: record 1 gives \{"positive":(true|false),"z":[-\d.e]+\} from the artifact, but training computed/);
    expect(await fs.readdir(path.join(dir, '.kiln', 'artifacts', 'scorer'))).toEqual([]);
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('fails with KILN6008 when the model has no input schema', async () => {
    const dir = await copyFixture('scorer');
    const decl = path.join(dir, 'pipelines', 'score', 'pipeline.yaml');
    await fs.writeFile(decl, (await fs.readFile(decl, 'utf8')).replace('  input_schema: ./input.schema.json\n', ''));
    const r = await kiln(['run'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/KILN6008: model 'scorer' has no input schema/);
    await fs.rm(dir, { recursive: true, force: true });
  });
});
