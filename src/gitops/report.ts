// `kiln report`: main as committed at the base commit (base-run.ts) against the latest FINISHED run at HEAD: metric
// deltas, the parameters that differ, metric histories as charts, and the images logged with the runs.
import fs from 'node:fs/promises';
import path from 'node:path';
import { diag, KilnError } from '../diagnostics/diagnostic.ts';
import type { Diagnostic } from '../diagnostics/types.ts';
import type { JsonValue, ProjectIR } from '../ir/types.ts';
import { analyzeProject } from '../project.ts';
import { compareRuns } from '../tracking/compare.ts';
import type { RunRecord } from '../tracking/store.ts';
import { baseRunAt } from './base-run.ts';
import { headCommit, mergeBaseWithMain, openRepository, resolveRevision } from './git-host.ts';
import { choosePipeline } from './models.ts';
import { curvePoints, type MetricCurve } from './report-curves.ts';

export interface ReportOptions {
  root: string;
  base?: string;
  pipeline?: string;
  /** Absolute folder to write the images (and nothing else) into; images are listed without files when absent. */
  outDir?: string;
}

export interface ReportSide {
  label: string;
  commit: string;
  run: { id: string; branch: string | null; dirty: boolean | null; startTime: number } | null;
}

export interface MetricRow {
  key: string;
  old: number | null;
  new: number | null;
  /** new − old, when both runs have the metric. */
  delta: number | null;
  relative: number | null;
}

export interface ReportImage {
  /** The name the file was logged under (training-curves.svg). */
  name: string;
  /** File names written into the output folder, or null when that run has no such file (or no --out was given). */
  base: string | null;
  head: string | null;
}

export interface Report {
  pipeline: string;
  model: string | null;
  base: ReportSide;
  head: ReportSide;
  metrics: MetricRow[];
  /** Only the parameters that differ between the two runs. */
  params: Array<{ key: string; old?: JsonValue; new?: JsonValue }>;
  /** Metric histories of either run (a metric logged at two steps or more on some side). */
  curves: MetricCurve[];
  images: ReportImage[];
}

const IMAGE = /\.(svg|png|jpe?g|gif|webp)$/i;
const safeName = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_');

async function analyzedIr(root: string): Promise<ProjectIR> {
  const analyzed = await analyzeProject(root);
  if (!analyzed.ok || !analyzed.ir) throw new KilnError(analyzed.diagnostics);
  return analyzed.ir;
}

export async function buildReport(opts: ReportOptions): Promise<{ report: Report; warnings: Diagnostic[] }> {
  const ir = await analyzedIr(opts.root);
  const pipeline = choosePipeline(ir, opts.pipeline);
  const repo = await openRepository(opts.root, 'report');
  const head = await headCommit(repo, 'report');
  const base = opts.base ? { commit: await resolveRevision(repo, opts.base), label: opts.base } : await mergeBaseWithMain(repo, head, ir.settings.mainBranch);

  const { openProjectTracking } = await import('../tracking/index.ts');
  const { objectsRemoteOf } = await import('../config/objects-remote.ts');
  // Images of a run recorded on another machine (main's, in CI) come from the objects repository.
  const tracking = await openProjectTracking(ir.settings.root, { objectsRemote: objectsRemoteOf(ir.settings) });
  try {
    const latest = async (commit: string): Promise<RunRecord | null> => {
      const s = tracking ? await tracking.runs.latestFinishedRun(pipeline.name, commit) : null;
      return s ? tracking!.runs.getRun(s.id) : null;
    };
    const baseChoice = await baseRunAt(tracking, pipeline.name, base.commit);
    const [a, b] = [baseChoice.run, await latest(head)];
    const warnings: Diagnostic[] = [];
    const passed = baseChoice.passedOver;
    if (passed) warnings.push(diag('KILN7058', { side: `the base ${base.label}`, commit: base.commit.slice(0, 7), run: passed.run.id, departures: passed.departures.join('; ') }));
    else if (!a) warnings.push(diag('KILN7016', { pipeline: pipeline.name, side: `the base ${base.label}`, commit: base.commit.slice(0, 7) }));
    if (!b) warnings.push(diag('KILN7016', { pipeline: pipeline.name, side: 'HEAD', commit: head.slice(0, 7) }));
    const side = (label: string, commit: string, r: RunRecord | null): ReportSide => ({ label, commit, run: r ? { id: r.id, branch: r.git.branch, dirty: r.git.dirty, startTime: r.startTime } : null });
    const empty = { params: {}, metrics: {} } as unknown as RunRecord;
    const cmp = compareRuns(a ?? { ...empty, id: '' }, b ?? { ...empty, id: '' });
    const report: Report = {
      pipeline: pipeline.name,
      model: pipeline.model?.name ?? null,
      base: side(base.label, base.commit, a),
      head: side('HEAD', head, b),
      metrics: cmp.metrics.map((m) => ({ key: m.key, old: m.a, new: m.b, delta: m.delta, relative: m.relative })),
      params: a && b ? cmp.params.filter((p) => p.changed).map((p) => ({ key: p.key, ...('a' in p ? { old: p.a } : {}), ...('b' in p ? { new: p.b } : {}) })) : [],
      curves: [],
      images: [],
    };
    const history = async (run: RunRecord | null, key: string) => (run && (run.metrics[key]?.historyLength ?? 0) > 0 ? curvePoints(await tracking!.runs.metricHistory(run.id, key)) : null);
    for (const m of cmp.metrics) {
      if (Math.max(a?.metrics[m.key]?.historyLength ?? 0, b?.metrics[m.key]?.historyLength ?? 0) < 2) continue;
      report.curves.push({ key: m.key, base: await history(a, m.key), head: await history(b, m.key) });
    }
    const names = [...new Set([...(a?.files ?? []), ...(b?.files ?? [])].map((f) => f.name).filter((n) => IMAGE.test(n)))].sort();
    if (opts.outDir && names.length) await fs.mkdir(opts.outDir, { recursive: true });
    for (const name of names) {
      const write = async (prefix: 'base' | 'head', run: RunRecord | null): Promise<string | null> => {
        const f = run?.files.find((x) => x.name === name);
        if (!f || !opts.outDir || !tracking) return null;
        const file = `${prefix}-${safeName(name)}`;
        await fs.writeFile(path.join(opts.outDir, file), await tracking.objects.getBytes(f.object));
        return file;
      };
      report.images.push({ name, base: await write('base', a), head: await write('head', b) });
    }
    return { report, warnings };
  } finally {
    tracking?.close();
  }
}
