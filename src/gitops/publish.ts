// `kiln publish`: a model goes out only from a clean main branch, from a finished run at HEAD whose artifact passed
// parity, through its gate. Then: verify, register the next version, copy the artifact to
// <publish.target>/<model>/v<N>/ (to a temporary folder first, renamed into place), and move the alias.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { readManifest, verifiedArtifact } from '../artifact/verify.ts';
import { MANIFEST_FILE } from '../artifact/manifest.ts';
import { diag, isKilnError, KilnError } from '../diagnostics/diagnostic.ts';
import type { Diagnostic } from '../diagnostics/types.ts';
import { analyzeProject } from '../project.ts';
import { gitStamp } from '../tracking/git.ts';
import { openTracking, parseModelRef, type Tracking } from '../tracking/index.ts';
import type { RunRecord } from '../tracking/store.ts';
import { checkGate, type GateInput } from './gate.ts';
import { headCommit, mainBranchTips, openRepository } from './git-host.ts';
import { chooseModel } from './models.ts';

export interface PublishOptions {
  root: string;
  model?: string;
  /** The alias to move; `production` by default (and the one `better_than` usually names). */
  alias?: string;
  /** Check every condition and say what would happen, without changing anything. */
  dryRun?: boolean;
}

export interface PublishResult {
  model: string;
  version: number;
  alias: string;
  previous: number | null;
  run: string;
  commit: string;
  branch: string;
  /** Where the artifact was published, relative to the project root when inside it. */
  artifact: string;
  files: number;
  /** The gate checks that passed, in words. */
  gate: string[];
  dryRun: boolean;
  /** True when this run was published before (as `version`): nothing was done, the alias left where it is. */
  alreadyPublished: boolean;
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
  const target = ir.settings.publish.target ? path.resolve(root, ir.settings.publish.target) : null;
  if (!target) problems.push(diag('KILN7011', {}, ir.settings.location));

  const repo = await openRepository(root, 'publish');
  const head = await headCommit(repo, 'publish');
  const { stamp } = await gitStamp(root, { exclude: [storeDir, ...(target ? [target] : [])] });
  if (stamp.dirty) {
    const files = stamp.uncommitted.map((f) => `${f.path} ${f.status}`);
    problems.push(diag('KILN7005', { files: files.slice(0, 5).join(', ') + (files.length > 5 ? ` and ${files.length - 5} more` : '') }));
  }
  const main = ir.settings.mainBranch;
  let branch = stamp.branch;
  if (branch !== main) {
    // A detached HEAD at the tip of main (CI checkouts) is on main.
    const tips = branch === null ? await mainBranchTips(repo, main) : [];
    if (tips.some((t) => t.commit === head)) branch = main;
    else problems.push(diag('KILN7006', { where: branch ? `on branch '${branch}'` : `detached at ${short(head)}`, main }));
  }

  const tracking = openTracking(storeDir);
  try {
    let run: RunRecord | null = null;
    const summary = await tracking.runs.latestFinishedRun(pipeline.name, head, { clean: true });
    if (!summary) {
      const dirty = await tracking.runs.latestFinishedRun(pipeline.name, head);
      problems.push(diag('KILN7007', { model: model.name, pipeline: pipeline.name, commit: short(head), detail: dirty ? ` from a clean working tree (run ${dirty.id} had uncommitted changes)` : '' }));
    } else run = await tracking.runs.getRun(summary.id);

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
      const baseline = model.gate?.betterThan ? await baselineOf(tracking, root, model.name, model.gate.betterThan, problems) : null;
      const gate = checkGate({ model: model.name, run: run.id, gate: model.gate, metrics, baseline });
      problems.push(...gate.diagnostics);
      if (!problems.length && artifactDir && target) return await publish({ tracking, root, target, model: model.name, alias, run, artifactDir, head, branch: branch ?? main, gate: gate.passed, dryRun: opts.dryRun ?? false });
    }
    throw new KilnError(problems);
  } finally {
    tracking.close();
  }
}

interface PublishStep {
  tracking: Tracking;
  root: string;
  target: string;
  model: string;
  alias: string;
  run: RunRecord;
  artifactDir: string;
  head: string;
  branch: string;
  gate: string[];
  dryRun: boolean;
}

async function publish(s: PublishStep): Promise<PublishResult> {
  // Against the digest the run recorded when its parity passed, so that re-hashed files cannot go out as a new version.
  const recorded = s.run.tags[`digest.${s.model}`];
  const { manifest, digest } = await verifiedArtifact(s.artifactDir, recorded ? { digest: recorded } : {});
  const known = (await s.tracking.registry.listModels()).find((m) => m.name === s.model);
  let version = (known?.latestVersion ?? 0) + 1;
  const folder = (v: number) => path.join(s.target, s.model, `v${v}`);
  const result = (v: number, previous: number | null, alreadyPublished = false): PublishResult => ({
    model: s.model,
    version: v,
    alias: s.alias,
    previous,
    run: s.run.id,
    commit: s.head,
    branch: s.branch,
    artifact: projectPath(s.root, folder(v)),
    files: Object.keys(manifest.files).length + 1,
    gate: s.gate,
    dryRun: s.dryRun,
    alreadyPublished,
  });
  // Publishing is idempotent per run: a CI job that runs again must not add a copy, nor undo a rollback.
  const earlier = known ? (await s.tracking.registry.showModel(s.model)).versions.find((v) => v.runId === s.run.id) : undefined;
  if (earlier) return { ...result(earlier.version, known!.aliases[s.alias] ?? null, true), artifact: earlier.artifactPath };
  if (fs.existsSync(folder(version))) throw new KilnError(diag('KILN7013', { model: s.model, version, path: projectPath(s.root, folder(version)) }));
  if (s.dryRun) {
    const current = known?.aliases[s.alias] ?? null;
    return result(version, current);
  }

  const staging = path.join(s.target, s.model, `.v${version}.publishing-${randomBytes(4).toString('hex')}`);
  await fs.promises.mkdir(path.dirname(staging), { recursive: true });
  try {
    await fs.promises.cp(s.artifactDir, staging, { recursive: true });
    await verifiedArtifact(staging, { digest });
    const sha = createHash('sha256').update(await fs.promises.readFile(path.join(staging, MANIFEST_FILE))).digest('hex');
    const registered = await s.tracking.registry.registerVersion({
      model: s.model,
      artifactPath: projectPath(s.root, folder(version)),
      artifactSha256: sha,
      runId: s.run.id,
      commit: s.head,
      description: `run ${s.run.id} at ${short(s.head)} on ${s.branch}`,
    });
    if (registered.version !== version) throw new Error(`internal error: expected version ${version} of ${s.model}, the registry gave ${registered.version} (another publish at the same time?)`);
    version = registered.version;
    await fs.promises.rename(staging, folder(version));
  } catch (e) {
    await fs.promises.rm(staging, { recursive: true, force: true });
    throw e;
  }
  const { previous } = await s.tracking.registry.setAlias(s.model, s.alias, version);
  await s.tracking.runs.setTag(s.run.id, `published.${s.model}`, `v${version}`);
  return result(version, previous);
}
