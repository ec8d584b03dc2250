// `kiln plan`: compile the project at a base revision (read from git objects) and at the head (the working tree, or a
// revision), then say what differs and which nodes will re-run. The I/O half; plan-diff.ts is the pure half.
import { createHash } from 'node:crypto';
import { fsHost, type ProjectHost } from '../config/host.ts';
import { diag, KilnError } from '../diagnostics/diagnostic.ts';
import type { Diagnostic } from '../diagnostics/types.ts';
import { freeInputs } from '../ir/graph.ts';
import type { DatasetIR, ProjectIR } from '../ir/types.ts';
import { analyzeProject, type AnalyzedProject } from '../project.ts';
import { CodeHasher, directorySource, treeSource, type FileSource } from './code-hash.ts';
import { currentBranch, GitTree, gitProjectHost, headCommit, mergeBaseWithMain, openRepository, repoPath, resolveRevision, type Repository } from './git-host.ts';
import { diffProjects, type Plan, type PlanFacts, type RevisionInfo } from './plan-diff.ts';
import { nodesUseTensorflow } from '../runtime/backend-use.ts';

export interface PlanOptions {
  /** Project root (absolute). */
  root: string;
  /** The base revision; the merge base of HEAD with the main branch when absent. */
  base?: string;
  /** The head revision; the working tree when absent. */
  head?: string;
}

interface Side {
  info: RevisionInfo;
  host: ProjectHost;
  files: FileSource;
  analyzed: AnalyzedProject;
}

const short = (c: string | null) => (c ? c.slice(0, 7) : 'no commit');

/** Re-labels one side's diagnostics as `<rev>:<file>` (git's own notation) and keeps their sources for code frames. */
function sideDiagnostics(side: Side, sources: Map<string, string>): Diagnostic[] {
  if (side.info.workingTree) {
    for (const [k, v] of side.analyzed.loaded.sources) sources.set(k, v);
    return side.analyzed.diagnostics;
  }
  const tag = short(side.info.commit);
  for (const [k, v] of side.analyzed.loaded.sources) sources.set(`${tag}:${k}`, v);
  return side.analyzed.diagnostics.map((d) => (d.location ? { ...d, location: { ...d.location, file: `${tag}:${d.location.file}` } } : d));
}

async function revisionSide(repo: Repository, ref: string, label: string): Promise<Omit<Side, 'analyzed'>> {
  const commit = await resolveRevision(repo, ref);
  const tree = await GitTree.load(repo, commit);
  return { info: { label, commit, workingTree: false }, host: gitProjectHost(tree), files: treeSource(tree) };
}

function sha(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The content of a folder dataset on one side: its files' paths and bytes, hashed; null when it has no file there. */
async function folderDigest(files: FileSource, dir: string): Promise<{ hash: string; count: number } | null> {
  const paths = await files.list(dir);
  if (!paths.length) return null;
  const h = createHash('sha256');
  for (const p of paths) h.update(`${p.slice(dir.length + 1)}\0${sha((await files.read(p)) ?? new Uint8Array())}\n`);
  return { hash: h.digest('hex'), count: paths.length };
}

/**
 * Free inputs whose content differs between the sides: single files compared by bytes, folders (partitioned,
 * tfjs_model) by every file under them. What cannot be compared goes to `unseen`, said plainly: data in neither
 * revision (ignored, or made by a download) and versioned inputs, whose version is picked when the run starts.
 */
async function changedInputData(baseIr: ProjectIR, headIr: ProjectIR, base: FileSource, head: FileSource, repo: Repository): Promise<{ changed: Map<string, string>; unseen: string[] }> {
  const out = new Map<string, string>();
  const unseen: string[] = [];
  const inputs = new Set(Object.values(headIr.pipelines).flatMap((p) => freeInputs(p.nodes)));
  const onDisk = (d: DatasetIR | undefined): d is DatasetIR & { path: string } => !!d && !!d.path && d.type !== 'memory';
  const folder = (d: DatasetIR) => d.type === 'partitioned' || d.type === 'tfjs_model';
  for (const name of [...inputs].sort()) {
    const a = baseIr.datasets[name];
    const b = headIr.datasets[name];
    if (!onDisk(b)) continue;
    if (!onDisk(a) || a.path !== b.path || a.type !== b.type) {
      if (a) out.set(name, 'its catalog entry changed');
      continue;
    }
    if (b.versioned) {
      unseen.push(`the content of '${name}' (versioned: a run loads the latest version of ${b.path}, or the one --load-version names)`);
      continue;
    }
    if (folder(b)) {
      const [x, y] = await Promise.all([folderDigest(base, repoPath(repo, a.path)), folderDigest(head, repoPath(repo, b.path))]);
      if (x === null && y === null) unseen.push(`the content of '${name}' (${b.path}/ is in neither revision: ignored, or made outside git)`);
      else if (x === null || y === null || x.hash !== y.hash) out.set(name, x === null ? `${b.path}/ is new` : y === null ? `${a.path}/ is gone` : `files in ${b.path}/ changed`);
      continue;
    }
    const [x, y] = await Promise.all([base.read(repoPath(repo, a.path)), head.read(repoPath(repo, b.path))]);
    if (x === undefined && y === undefined) {
      unseen.push(`the content of '${name}' (${b.path} is in neither revision: ignored, or made outside git)`);
      continue;
    }
    if (x === undefined || y === undefined || sha(x) !== sha(y)) out.set(name, x === undefined ? `${b.path} is new` : y === undefined ? `${a.path} is gone` : `${b.path} changed`);
  }
  return { changed: out, unseen };
}

export async function planProject(opts: PlanOptions): Promise<Plan> {
  const repo = await openRepository(opts.root, 'plan');
  const head = await headCommit(repo, 'plan');
  const headBranch = await currentBranch(repo);

  const headSide: Omit<Side, 'analyzed'> = opts.head
    ? await revisionSide(repo, opts.head, opts.head)
    : { info: { label: `working tree${headBranch ? ` (${headBranch})` : ''}`, commit: head, workingTree: true }, host: fsHost(repo.projectRoot), files: directorySource(repo.dir) };
  const headAnalyzed = await analyzeProject(headSide.host);

  let baseSide: Omit<Side, 'analyzed'>;
  if (opts.base) baseSide = await revisionSide(repo, opts.base, opts.base);
  else {
    const main = headAnalyzed.loaded.settings?.mainBranch ?? 'main';
    const from = headSide.info.commit ?? head;
    const mb = await mergeBaseWithMain(repo, from, main);
    baseSide = await revisionSide(repo, mb.commit, mb.label);
  }
  const sides = { base: { ...baseSide, analyzed: await analyzeProject(baseSide.host) }, head: { ...headSide, analyzed: headAnalyzed } };
  // A base without kiln.yaml (the pull request that adds kiln to a repository) is an empty project: everything is new.
  const baseIsEmpty = !sides.base.analyzed.loaded.projectFile && !sides.base.info.workingTree;
  if (baseIsEmpty) sides.base.info.label += ' (no kiln project)';

  const problems: Diagnostic[] = [];
  const sources = new Map<string, string>();
  for (const which of ['base', 'head'] as const) {
    const side = sides[which];
    if ((side.analyzed.ok && side.analyzed.ir) || (which === 'base' && baseIsEmpty)) continue;
    const errors = side.analyzed.diagnostics.filter((d) => d.severity === 'error');
    problems.push(diag('KILN7004', { side: side.info.workingTree ? 'the working tree' : side.info.label, commit: short(side.info.commit), count: errors.length }), ...sideDiagnostics(side, sources));
  }
  if (problems.length) throw new PlanError(problems, sources);

  const headIr = sides.head.analyzed.ir as ProjectIR;
  const baseIr: ProjectIR = baseIsEmpty ? { settings: headIr.settings, datasets: {}, parameters: { values: {}, locations: {} }, pipelines: {} } : (sides.base.analyzed.ir as ProjectIR);
  const hashers = { base: new CodeHasher(repo, sides.base.files), head: new CodeHasher(repo, sides.head.files) };
  // Bundle every module both sides share up front, concurrently; the pure diff then only looks results up.
  const codeResults = new Map<string, { detail?: string } | null>();
  const pairs: Array<Promise<void>> = [];
  for (const [pname, p] of Object.entries(headIr.pipelines)) {
    const old = baseIr.pipelines[pname];
    if (!old) continue;
    const oldNodes = new Map(old.nodes.map((x) => [x.name, x]));
    for (const n of p.nodes) {
      const o = oldNodes.get(n.name);
      if (!o) continue;
      pairs.push(
        (async () => {
          const [a, b] = await Promise.all([hashers.base.hash(o.func.module), hashers.head.hash(n.func.module)]);
          let result: { detail?: string } | null = null;
          if ('error' in a) result = { detail: `cannot bundle it at the base: ${a.error}` };
          else if ('error' in b) result = { detail: `cannot bundle it at the head: ${b.error}` };
          else if (a.hash !== b.hash) result = {};
          codeResults.set(`${pname}\0${n.name}`, result);
        })(),
      );
    }
  }
  await Promise.all(pairs);
  const data = await changedInputData(baseIr, headIr, sides.base.files, sides.head.files, repo);
  const headSources = sides.head.analyzed.loaded.sources;
  const usesBackend = (pipeline: string) => nodesUseTensorflow(headIr, headIr.pipelines[pipeline]?.nodes ?? [], headSources);
  const unseen = [...data.unseen];
  if (Object.keys(headIr.pipelines).some(usesBackend)) unseen.push(`a backend given to \`kiln run --backend\` (plan assumes kiln.yaml's: ${headIr.settings.backend}); another one re-runs every node of a pipeline that uses TensorFlow.js`);
  const facts: PlanFacts = {
    codeChange: (pipeline, _old, n) => codeResults.get(`${pipeline}\0${n.name}`) ?? null,
    changedData: data.changed,
    usesBackend,
    unseen,
  };
  return diffProjects(baseIr, headIr, facts, { base: sides.base.info, head: sides.head.info });
}

/** Declarations that do not compile on a side: the diagnostics, and the texts their code frames come from. */
export class PlanError extends KilnError {
  constructor(
    diagnostics: Diagnostic[],
    readonly sources: ReadonlyMap<string, string>,
  ) {
    super(diagnostics);
  }
}
