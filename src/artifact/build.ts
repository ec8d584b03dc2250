// Building an inference artifact from a finished training run: the bundled inference code, the fitted state the run
// used, parity records (the evaluation inputs and the outputs training computed for them), and a manifest with the
// sha256 of every file. The build ends with a parity check in a fresh process, on the folder before it is renamed into
// place: an artifact is visible (loadable, reusable) only once its run recorded that parity passed.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import v8 from 'node:v8';
import { diag, KilnError } from '../diagnostics/diagnostic.ts';
import { PARAMS } from '../ir/pipelines.ts';
import { parameterValue } from '../ir/parameters.ts';
import { datasetOf } from '../ir/resolve.ts';
import type { DatasetIR, JsonValue, ProjectIR } from '../ir/types.ts';
import { createDataset } from '../runtime/datasets/index.ts';
import { hashFile, hashPath, sha256 } from '../tracking/objects.ts';
import type { Tracking } from '../tracking/index.ts';
import type { RunRecord } from '../tracking/store.ts';
import { kilnVersion } from '../version.ts';
import { canonicalJson } from '../runtime/runner.ts';
import { modelFile } from '../codegen/paths.ts';
import { bundleInference } from './bundle.ts';
import { carriesBackend, copyWasmBinaries } from './carried-tfjs.ts';
import { requirementsOf } from './runtime-requirements.ts';
import { buildingFolder, sweepAbandonedBuilds } from './building.ts';
import { assertHermetic } from './hermetic.ts';
import { ARTIFACT_FORMAT, ENTRY_FILE, MANIFEST_FILE, PARITY_FILE, type ArtifactManifest, type ArtifactRuntime } from './manifest.ts';
import { checkParity, type ParityResult } from './parity.ts';
import type { FittedStateEntry } from './runtime.ts';
import { findIdenticalArtifact, linkArtifactFiles, type ArtifactIdentity } from './reuse.ts';
import { hashArtifactFiles } from './verify.ts';

export interface BuiltArtifact {
  dir: string;
  manifest: ArtifactManifest;
  /** verifiedBy: the run whose artifact was checked in a fresh process (this one, or an identical earlier one). */
  parity: ParityResult & { verifiedBy: string };
}

export function artifactDir(ir: ProjectIR, model: string, runId: string): string {
  return path.join(ir.settings.root, ir.settings.storeDir, 'artifacts', model, runId);
}

/** Nested parameters from the run's flattened ones (what `params:a` refers to when `a` is a mapping). */
function unflatten(flat: Record<string, JsonValue>): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const [k, v] of Object.entries(flat)) {
    const parts = k.split('.');
    let cur = out;
    for (const p of parts.slice(0, -1)) cur = (cur[p] ??= {}) as Record<string, JsonValue>;
    cur[parts[parts.length - 1]] = v;
  }
  return out;
}

function fail(run: string, reason: string, fix: string): never {
  throw new KilnError(diag('KILN6001', { run, reason, fix }));
}

/** Keeps only the properties the input schema declares, so parity proves predictions need nothing else (no label). */
function projectRecord(record: unknown, schema: Record<string, unknown>): unknown {
  const props = schema.properties as Record<string, unknown> | undefined;
  if (!props || record === null || typeof record !== 'object' || Array.isArray(record)) return record;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(props)) if (k in (record as Record<string, unknown>)) out[k] = (record as Record<string, unknown>)[k];
  return out;
}

/** A dataset's value as the run recorded it: from its snapshot in the object store. */
async function snapshotValue(tracking: Tracking, entry: DatasetIR, object: string, scratch: string): Promise<unknown> {
  if (entry.type === 'memory') return v8.deserialize(await tracking.objects.getBytes(object));
  const tmpRoot = path.join(scratch, `value-${entry.name}`);
  const rel = `value${path.extname(entry.path ?? '') || ''}`;
  await tracking.objects.restore(object, path.join(tmpRoot, rel));
  return createDataset({ ...entry, path: rel, versioned: false }, { root: tmpRoot, allowedPaths: [], saveVersion: 'x', recordMetrics() {} }).load();
}

export interface BuildOptions {
  /** Check parity in a fresh process even when an identical artifact already passed it (`kiln package`). */
  recheck?: boolean;
}

export async function buildArtifact(ir: ProjectIR, tracking: Tracking, runIdOrPrefix: string, opts: BuildOptions = {}): Promise<BuiltArtifact> {
  const run: RunRecord = await tracking.runs.getRun(runIdOrPrefix);
  const id = run.id;
  if (run.status !== 'FINISHED') fail(id, `it is ${run.status}`, 'Only finished runs can be packaged; run the pipeline again.');
  const pipeline = ir.pipelines[run.pipeline];
  if (!pipeline) fail(id, `its pipeline '${run.pipeline}' is not declared any more`, 'Check out the commit the run was made at.');
  const model = pipeline.model;
  if (!model) fail(id, `pipeline '${pipeline.name}' has no model binding`, 'Add a `model:` binding to the pipeline declaration (DESIGN §5).');
  if (!model.inputSchemaJson) throw new KilnError(diag('KILN6008', { model: model.name, input: model.input }, model.location));

  const execOf = (node: string) => run.nodes.filter((n) => n.node === node && n.status === 'FINISHED').pop();
  const nodes = model.nodes.map((name) => {
    const ex = execOf(name);
    if (!ex) fail(id, `it did not run node '${name}' of the inference path`, `Package a run of the whole pipeline (\`kiln run ${pipeline.name}\`).`);
    return { name, ex };
  });
  await assertHermetic(ir.settings.root, model.name, model.nodes.map((name) => pipeline.nodes.find((n) => n.name === name)!));
  const producerExec = (dataset: string) => {
    const producer = pipeline.nodes.find((n) => n.outputs.some((o) => o.dataset === dataset));
    const ex = producer ? execOf(producer.name) : undefined;
    return ex?.outputs[dataset];
  };

  const scratch = path.join(ir.settings.root, ir.settings.storeDir, 'tmp', `artifact-${id}-${randomBytes(4).toString('hex')}`);
  const finalDir = artifactDir(ir, model.name, id);
  await sweepAbandonedBuilds(path.dirname(finalDir));
  const building = buildingFolder(finalDir, id);
  await fs.mkdir(building, { recursive: true });
  await fs.mkdir(scratch, { recursive: true });
  let reused: { dir: string; manifest: ArtifactManifest } | null = null;
  let manifest: ArtifactManifest;
  let manifestText: string;
  try {
    // Fitted state: exactly what the inference path read in this run (by content hash), from the object store or,
    // when the run only read it, from its catalog location if the content is still the same.
    const fitted: Record<string, FittedStateEntry> = {};
    for (const name of model.fittedState) {
      const entry = datasetOf(ir, name);
      const reader = nodes.find((n) => n.name && pipeline.nodes.find((x) => x.name === n.name)!.inputs.some((i) => i.dataset === name))!;
      const sha = reader.ex.inputs[name];
      if (!sha) fail(id, `it has no content hash of '${name}'`, 'Run the pipeline again with tracking on.');
      const rel = `state/${name}${entry.type === 'tfjs_model' || entry.type === 'partitioned' ? '' : path.extname(entry.path ?? '')}`;
      fitted[name] = { type: entry.type, path: rel, sha256: sha, ...(Object.keys(entry.options).length ? { options: entry.options as Record<string, unknown> } : {}), ...(entry.schemaJson ? { schema: entry.schemaJson } : {}) };
    }
    const restoreFitted = async () => {
      for (const [name, { path: rel, sha256: sha }] of Object.entries(fitted)) {
        const entry = datasetOf(ir, name);
        const dest = path.join(building, ...rel.split('/'));
        await fs.mkdir(path.dirname(dest), { recursive: true });
        if (await tracking.objects.hasComplete(sha)) {
          await tracking.objects.restore(sha, dest);
          continue;
        }
        const ds = createDataset(entry, { root: ir.settings.root, allowedPaths: ir.settings.allowedPaths, saveVersion: 'x', recordMetrics() {} });
        const [current] = await ds.files();
        const location = entry.type === 'tfjs_model' || entry.type === 'partitioned' ? (current ? path.dirname(current) : null) : current;
        if (!location || (await hashPath(location)) !== sha) fail(id, `the '${name}' it used is neither in the object store nor at ${entry.path} any more`, `Run the pipeline again to rebuild it.`);
        await fs.cp(location, dest, { recursive: true });
      }
    };

    // Parity records: the evaluation inputs (business objects) and what training computed for them.
    const inputSnap = producerExec(model.input);
    const outputSnap = producerExec(model.output);
    if (!inputSnap?.object || !outputSnap?.object) fail(id, `the run kept no snapshot of '${!inputSnap?.object ? model.input : model.output}'`, 'Run the pipeline again with tracking on (the snapshot is what parity is checked against).');
    // What the parity records are made of: the two snapshots and the projection onto the input schema.
    const paritySource = sha256(`${inputSnap.sha256}\n${outputSnap.sha256}\n${canonicalJson(model.inputSchemaJson)}`);

    const generatedFile = path.join(ir.settings.root, modelFile(ir.settings.generatedDir, pipeline.name));
    const generatedSha = await hashFile(generatedFile);
    const carried = carriesBackend(run.backend);
    const runtime: ArtifactRuntime = { tensorflow: carried ? 'carried' : 'host', requires: carried || !run.backend ? {} : requirementsOf(run.backend) };
    const identity: ArtifactIdentity = {
      format: ARTIFACT_FORMAT,
      runtime,
      kiln_version: kilnVersion,
      backend: run.backend,
      generated_sha256: generatedSha,
      nodes: nodes.map((n) => `${n.name}:${n.ex.fingerprint}`),
      fitted: Object.entries(fitted).map(([k, v]) => `${k}:${v.sha256}:${v.path}`).sort(),
      parity: paritySource,
    };
    reused = opts.recheck ? null : await findIdenticalArtifact(tracking, path.dirname(finalDir), identity);
    let records: number;
    if (reused) {
      // Same code, fitted state and records: the files are the same bytes, so share them instead of another copy.
      await linkArtifactFiles(reused, building);
      records = reused.manifest.parity.records;
    } else {
      await restoreFitted();
      const inputs = (await snapshotValue(tracking, datasetOf(ir, model.input), inputSnap.object, scratch)) as unknown[];
      const outputs = (await snapshotValue(tracking, datasetOf(ir, model.output), outputSnap.object, scratch)) as unknown[];
      if (!Array.isArray(inputs) || !Array.isArray(outputs) || inputs.length !== outputs.length) fail(id, `'${model.input}' and '${model.output}' are not lists of the same length`, 'model.input must be a list of records and model.output a list aligned with it.');
      const parityText = inputs.map((r, i) => JSON.stringify({ input: projectRecord(r, model.inputSchemaJson!), output: outputs[i] })).join('\n') + (inputs.length ? '\n' : '');
      await fs.writeFile(path.join(building, PARITY_FILE), parityText);
      records = inputs.length;
      await fs.writeFile(path.join(building, ENTRY_FILE), await bundleInference(ir.settings.root, generatedFile, run.backend));
      if (run.backend === 'wasm') await copyWasmBinaries(building);
    }

    const params = unflatten(run.params);
    const inferenceParameters: Record<string, unknown> = {};
    for (const ref of model.parameters) inferenceParameters[ref] = parameterValue(params, ref.slice(PARAMS.length));
    const metrics: Record<string, number> = {};
    for (const [k, m] of Object.entries(run.metrics)) metrics[k] = m.value;
    manifest = {
      format: ARTIFACT_FORMAT,
      model: model.name,
      run_id: id,
      pipeline: pipeline.name,
      git: { commit: run.git.commit, branch: run.git.branch, dirty: run.git.dirty },
      kiln_version: kilnVersion,
      backend: { name: run.backend, tfjs: run.versions.tfjs },
      runtime,
      input_schema: model.inputSchemaJson,
      output_schema: model.outputSchemaJson ?? {},
      parameters: run.params,
      inference_parameters: inferenceParameters,
      metrics,
      nodes: nodes.map((n) => ({ name: n.name, fingerprint: n.ex.fingerprint })),
      fitted_state: fitted,
      entry: ENTRY_FILE,
      parity: { file: PARITY_FILE, records, source: paritySource, verified_by: reused ? reused.manifest.parity.verified_by : id },
      generated_sha256: generatedSha,
      files: await hashArtifactFiles(building),
    };
    manifestText = JSON.stringify(manifest, null, 2) + '\n';
    await fs.writeFile(path.join(building, MANIFEST_FILE), manifestText);
  } catch (e) {
    await fs.rm(building, { recursive: true, force: true });
    throw e;
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
  let parity: BuiltArtifact['parity'];
  try {
    // An artifact identical in everything parity depends on already passed it in a fresh process: no need to again.
    parity = reused ? { records: reused.manifest.parity.records, backend: run.backend, ms: 0, verifiedBy: reused.manifest.parity.verified_by } : { ...(await checkParity(building, run.backend)), verifiedBy: id };
  } catch (e) {
    await fs.rm(building, { recursive: true, force: true });
    // A run whose rebuilt artifact fails parity keeps no artifact that an earlier build left in place either.
    await fs.rm(finalDir, { recursive: true, force: true });
    await tracking.runs.setTag(id, `parity.${model.name}`, 'failed').catch(() => undefined);
    throw e;
  }
  try {
    // The verdict and digest are recorded before the folder is renamed into place, so a visible folder always has them.
    // The digest is the sha256 of manifest.json (see artifactDigest), hashed from the text just written.
    await tracking.runs.setTag(id, `parity.${model.name}`, 'passed');
    await tracking.runs.setTag(id, `digest.${model.name}`, sha256(manifestText));
    // Swap in the finished folder; a rebuild replaces the previous one only once it is complete and checked.
    await fs.rm(finalDir, { recursive: true, force: true });
    await fs.rename(building, finalDir);
    await tracking.runs.setTag(id, `artifact.${model.name}`, path.relative(ir.settings.root, finalDir).split(path.sep).join('/'));
  } catch (e) {
    await fs.rm(building, { recursive: true, force: true });
    throw e;
  }
  return { dir: finalDir, manifest: JSON.parse(manifestText) as ArtifactManifest, parity };
}
