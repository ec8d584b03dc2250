// `kiln publish`: a model goes out only from a clean main branch, from a finished run at HEAD of the committed
// declarations (no overrides, unless accepted and recorded) whose artifact passed parity, through its gate. Then:
// verify, copy the artifact next to <publish.target>/<model>/ and, in the registry's write transaction, rename it to
// v<N>/ and register v<N>; then move the alias. An artifact digest is published once. An oci:// target is published
// to by oci-publish.ts, and its registry is the OCI repository.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { readManifest, verifiedArtifact } from '../artifact/verify.ts';
import { MANIFEST_FILE } from '../artifact/manifest.ts';
import { diag, isKilnError, KilnError } from '../diagnostics/diagnostic.ts';
import type { Diagnostic } from '../diagnostics/types.ts';
import { analyzeProject } from '../project.ts';
import { gitStamp } from '../tracking/git.ts';
import { openProjectTracking, parseModelRef, type Tracking } from '../tracking/index.ts';
import type { RunRecord } from '../tracking/store.ts';
import type { ModelVersion } from '../tracking/registry.ts';
import type { PipelineIR, ProjectIR } from '../ir/types.ts';
import { checkGate, type GateInput } from './gate.ts';
import { headCommit, mainBranchTips, openRepository } from './git-host.ts';
import { chooseModel } from './models.ts';
import { overridesOf } from './overrides.ts';
import { ociBaseline, publishToOci } from './oci-publish.ts';
import { publishResult, verifiedRunArtifact, type PublishResult, type PublishStep } from './publish-step.ts';

export type { PublishResult } from './publish-step.ts';
import { isOciReference, modelRepository } from '../oci/reference.ts';

export interface PublishOptions {
  root: string;
  model?: string;
  /**
   * The alias to move; `production` by default (and the one `better_than` usually names). Given, it is moved also
   * when the artifact was published before; left out, a republish leaves the alias alone (so as not to undo a rollback).
   */
  alias?: string;
  /** Publish a run that departs from the committed declarations (--params…), recording the departures with the version. */
  allowOverrides?: boolean;
  /** Check every condition and say what would happen, without changing anything. */
  dryRun?: boolean;
  /**
   * With dryRun: judge HEAD as if it were main's tip, so that a pull request's job previews what main will do with it
   * once merged (its gate against production above all). Every other condition still holds.
   */
  asMain?: boolean;
}


const short = (c: string) => c.slice(0, 7);

/** Relative to the project root when inside it (portable with the project), else absolute. */
function projectPath(root: string, abs: string): string {
  const rel = path.relative(root, abs);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : abs;
}

async function baselineOf(tracking: Tracking, root: string, model: string, alias: string, problems: Diagnostic[]): Promise<GateInput['baseline']> {
  let version;
  try {
    version = await tracking.registry.resolve(`${model}@${alias}`);
  } catch (e) {
    // No such model or alias yet: nothing to be better than (the first publish).
    if (isKilnError(e) && e.diagnostics.every((d) => d.code === 'KILN4012' || d.code === 'KILN4013')) return null;
    throw e;
  }
  try {
    return { alias, version: version.version, metrics: (await readManifest(path.resolve(root, version.artifactPath))).metrics };
  } catch {
    // The artifact folder is gone: the run it came from still has the metrics.
  }
  if (version.runId) {
    try {
      const metrics: Record<string, number> = {};
      for (const [k, m] of Object.entries((await tracking.runs.getRun(version.runId)).metrics)) metrics[k] = m.value;
      return { alias, version: version.version, metrics };
    } catch {
      // fall through
    }
  }
  problems.push(diag('KILN7021', { model, alias, version: version.version, reason: `neither its artifact (${version.artifactPath}) nor its run is there any more` }));
  return null;
}

export async function publishModel(opts: PublishOptions): Promise<PublishResult> {
  const alias = opts.alias ?? 'production';
  const analyzed = await analyzeProject(opts.root);
  if (!analyzed.ok || !analyzed.ir) throw new KilnError(analyzed.diagnostics);
  const ir = analyzed.ir;
  const root = ir.settings.root;
  const { pipeline, model } = chooseModel(ir, opts.model);
  if (parseModelRef(`${model.name}@${alias}`).selector.kind !== 'alias') {
    throw new KilnError(diag('KILN4011', { what: 'alias', name: alias, reason: 'it would read as a version', fix: 'Alias names start with a letter; v<number> and latest are taken by versions.' }));
  }

  const problems: Diagnostic[] = [];
  const storeDir = path.join(root, ir.settings.storeDir);
  const declared = ir.settings.publish.target;
  // An oci:// target is a repository on a registry, which is then also the registry of versions and aliases.
  const oci = declared !== null && isOciReference(declared);
  const target = declared ? (oci ? declared : path.resolve(root, declared)) : null;
  if (!target) problems.push(diag('KILN7011', {}, ir.settings.location));
  // A model name that cannot name a repository (upper case) is refused before any check that costs time.
  if (oci) modelRepository(declared, model.name);

  const repo = await openRepository(root, 'publish');
  const head = await headCommit(repo, 'publish');
  const { stamp } = await gitStamp(root, { exclude: [storeDir, ...(target && !oci ? [target] : [])] });
  if (stamp.dirty) {
    const files = stamp.uncommitted.map((f) => `${f.path} ${f.status}`);
    problems.push(diag('KILN7005', { files: files.slice(0, 5).join(', ') + (files.length > 5 ? ` and ${files.length - 5} more` : '') }));
  }
  const main = ir.settings.mainBranch;
  if (opts.asMain && !opts.dryRun) throw new Error('internal error: publishModel was asked to publish as main without dryRun');
  let branch = opts.asMain ? main : stamp.branch;
  if (branch !== main) {
    // A detached HEAD at the tip of main (CI checkouts) is on main.
    const tips = branch === null ? await mainBranchTips(repo, main) : [];
    if (tips.some((t) => t.commit === head)) branch = main;
    else problems.push(diag('KILN7006', { where: branch ? `on branch '${branch}'` : `detached at ${short(head)}`, main }));
  }

  const tracking = (await openProjectTracking(root, { create: true }))!;
  try {
    const chosen = await chooseRun(tracking, ir, pipeline, head, model.name, opts.allowOverrides ?? false, problems);
    const run = chosen?.run ?? null;

    let artifactDir: string | null = null;
    if (run) {
      const parity = run.tags[`parity.${model.name}`];
      const rel = run.tags[`artifact.${model.name}`];
      if (parity !== 'passed' || !rel) {
        problems.push(diag('KILN7008', {
          model: model.name,
          run: run.id,
          problem: parity === 'failed' ? 'failed its parity check' : 'was never built',
          fix: parity === 'failed' ? 'Inference did not reproduce what training computed; see `kiln package ' + run.id + '` for the difference, fix it, commit and run again.' : `The run did not build it (a partial run, or --no-package); build it with: kiln package ${run.id}`,
        }));
      } else if (!fs.existsSync(path.join(path.resolve(root, rel), MANIFEST_FILE))) {
        problems.push(diag('KILN7008', { model: model.name, run: run.id, problem: `is not at ${rel} any more`, fix: `Build it again with: kiln package ${run.id}` }));
      } else artifactDir = path.resolve(root, rel);

      const metrics: Record<string, number> = {};
      for (const [k, m] of Object.entries(run.metrics)) metrics[k] = m.value;
      const betterThan = model.gate?.betterThan;
      const baseline = !betterThan ? null : oci ? await ociBaseline(declared, model.name, betterThan) : await baselineOf(tracking, root, model.name, betterThan, problems);
      const gate = checkGate({ model: model.name, run: run.id, gate: model.gate, metrics, baseline });
      problems.push(...gate.diagnostics);
      const step = { tracking, model: model.name, alias, aliasAsked: opts.alias !== undefined, run, overrides: chosen!.overrides, artifactDir: artifactDir!, head, branch: branch ?? main, gate: gate.passed, dryRun: opts.dryRun ?? false };
      if (!problems.length && artifactDir && oci) return await publishToOci({ ...step, root, target: declared });
      if (!problems.length && artifactDir && target) return await publish({ ...step, root, target });
    }
    throw new KilnError(problems);
  } finally {
    tracking.close();
  }
}

/**
 * The run to publish at HEAD: the newest clean FINISHED run of the committed declarations; without one, the newest
 * clean run with overrides when they are allowed (else KILN7022 naming it), or KILN7007 when there is no clean run.
 */
async function chooseRun(tracking: Tracking, ir: ProjectIR, pipeline: PipelineIR, head: string, model: string, allowOverrides: boolean, problems: Diagnostic[]): Promise<{ run: RunRecord; overrides: string[] } | null> {
  const clean = await tracking.runs.finishedRuns(pipeline.name, head, { clean: true });
  if (!clean.length) {
    const dirty = await tracking.runs.latestFinishedRun(pipeline.name, head);
    problems.push(diag('KILN7007', { model, pipeline: pipeline.name, commit: short(head), detail: dirty ? ` from a clean working tree (run ${dirty.id} had uncommitted changes)` : '' }));
    return null;
  }
  let newest: { run: RunRecord; overrides: string[] } | null = null;
  for (const summary of clean) {
    const run = await tracking.runs.getRun(summary.id);
    const overrides = overridesOf(run, ir, pipeline);
    if (!overrides.length) return { run, overrides };
    newest ??= { run, overrides };
  }
  if (allowOverrides) return newest;
  problems.push(diag('KILN7022', { model, run: newest!.run.id, pipeline: pipeline.name, overrides: newest!.overrides.join('; ') }));
  return null;
}

async function publish(s: PublishStep): Promise<PublishResult> {
  const { manifest, digest } = await verifiedRunArtifact(s);
  const known = (await s.tracking.registry.listModels()).find((m) => m.name === s.model);
  const version = (known?.latestVersion ?? 0) + 1;
  const folder = (v: number) => path.join(s.target, s.model, `v${v}`);
  const result = (v: number, previous: number | null, more: Partial<PublishResult> = {}) => publishResult(s, Object.keys(manifest.files).length + 1, v, projectPath(s.root, folder(v)), previous, more);
  // Publishing is idempotent per run and per artifact digest: a CI job that runs again must not add a copy, nor undo
  // a rollback (the alias moves only when named).
  const already = async (earlier: ModelVersion): Promise<PublishResult> => {
    const current = (await s.tracking.registry.listModels()).find((m) => m.name === s.model)?.aliases[s.alias] ?? null;
    const move = s.aliasAsked && !s.dryRun && current !== earlier.version;
    const previous = move ? (await s.tracking.registry.setAlias(s.model, s.alias, earlier.version)).previous : current;
    return { ...result(earlier.version, previous, { alreadyPublished: true, aliasMoved: move, overrides: earlier.overrides }), artifact: earlier.artifactPath };
  };
  const earlier = known ? (await s.tracking.registry.showModel(s.model)).versions.find((v) => v.runId === s.run.id || v.artifactSha256 === digest) : undefined;
  if (earlier) return already(earlier);
  if (s.dryRun) {
    if (fs.existsSync(folder(version))) throw new KilnError(diag('KILN7013', { model: s.model, version, path: projectPath(s.root, folder(version)) }));
    return result(version, known?.aliases[s.alias] ?? null);
  }
  // No early "folder exists" refusal here: a concurrent publish of this same artifact may have placed v<n> and not yet
  // committed it, and this process must then wait for that transaction and answer "already published". The check that
  // decides is the one inside the registry's write transaction below.

  const staging = path.join(s.target, s.model, `.publishing-${randomBytes(6).toString('hex')}`);
  await fs.promises.mkdir(path.dirname(staging), { recursive: true });
  let registered;
  try {
    await fs.promises.cp(s.artifactDir, staging, { recursive: true });
    await verifiedArtifact(staging, { digest });
    registered = await s.tracking.registry.publishVersion(
      {
        model: s.model,
        artifactSha256: digest,
        runId: s.run.id,
        commit: s.head,
        description: `run ${s.run.id} at ${short(s.head)} on ${s.branch}`,
        overrides: s.overrides,
      },
      // Runs inside the registry's write transaction: the number is ours, and the version is committed only once its
      // folder is complete; another project publishing to the same target gets KILN7013 instead of a folder it lost.
      (v) => {
        const dest = folder(v);
        const taken = () => new KilnError(diag('KILN7013', { model: s.model, version: v, path: projectPath(s.root, dest) }));
        if (fs.existsSync(dest)) throw taken();
        try {
          fs.renameSync(staging, dest);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code === 'ENOTEMPTY' || code === 'EEXIST') throw taken();
          throw e;
        }
        return { artifactPath: projectPath(s.root, dest), undo: () => fs.renameSync(dest, staging) };
      },
    );
  } finally {
    await fs.promises.rm(staging, { recursive: true, force: true });
  }
  // Another publish of the same artifact won the race: this one is a republish.
  if (registered.existing) return already(registered.version);
  const { previous } = await s.tracking.registry.setAlias(s.model, s.alias, registered.version.version);
  await s.tracking.runs.setTag(s.run.id, `published.${s.model}`, `v${registered.version.version}`);
  return result(registered.version.version, previous);
}
