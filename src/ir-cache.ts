// The resolved IR of a project, remembered between runs: parsing, locating and validating the declarations was most of
// what a fully cached `kiln run` of a large pipeline cost. Loading and resolving are a pure function of what the
// project host answers (file texts, sizes, listings, real paths, package.json), so the analysis records every question
// it asked with a digest of the answer; the next run asks the same questions again and reuses the IR only when every
// answer is the same, and kiln's compiler code is the same. Anything else (a missing or damaged cache file) only
// means analysing again.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import { fsHost, type ProjectHost } from './config/host.ts';
import { storeDirOf } from './config/store-dir.ts';
import type { AnalyzedProject } from './project.ts';
import type { ProjectIR } from './ir/types.ts';
import type { Diagnostic } from './diagnostics/types.ts';
import { writeFileAtomic } from './runtime/atomic.ts';

/** Where a project's remembered IR is kept, under its store. */
export const irCacheFile = (storeDir: string) => path.join(storeDir, 'cache', 'ir.bin');

/** One question the analysis asked its host, and a digest of the answer. */
type Question = [method: 'readFile' | 'fileSize' | 'listFiles' | 'realPath' | 'packageJson', arg: string, answer: string];

interface RememberedIr {
  /** kiln's compiler code, as `compilerKey` gave it. */
  compiler: string;
  questions: Question[];
  ir: ProjectIR;
  /** What loading and resolving said besides the IR (warnings only: an IR with errors is not remembered). */
  diagnostics: Diagnostic[];
  cyclic: Array<[pipeline: string, cycle: string[]]>;
}

/** The analysis the runner and `kiln validate` need: the IR, every text it was resolved from, and what resolving said. */
export interface RecalledAnalysis {
  ir: ProjectIR;
  sources: ReadonlyMap<string, string>;
  /** Diagnostics of loading and resolving (not of the checks, which `checks: false` left out). */
  diagnostics: Diagnostic[];
  cyclic: ReadonlyMap<string, string[]>;
}

const digest = (v: unknown) => (v === undefined ? 'none' : createHash('sha256').update(typeof v === 'string' ? v : JSON.stringify(v)).digest('hex'));

/** A host that answers through `inner` and writes down each question with the digest of its answer. */
function recordingHost(inner: ProjectHost, questions: Question[]): ProjectHost {
  const ask =
    <A>(method: Question[0], fn: (arg: string) => Promise<A>) =>
    async (arg = ''): Promise<A> => {
      const answer = await fn(arg);
      questions.push([method, arg, digest(answer)]);
      return answer;
    };
  return {
    root: inner.root,
    readFile: ask('readFile', (rel) => inner.readFile(rel)),
    fileSize: ask('fileSize', (rel) => inner.fileSize(rel)),
    listFiles: ask('listFiles', (rel) => inner.listFiles(rel)),
    ...(inner.realPath ? { realPath: ask('realPath', (rel) => inner.realPath!(rel)) } : {}),
    ...(inner.packageJson ? { packageJson: ask('packageJson', () => inner.packageJson!()) } : {}),
  };
}

/**
 * The IR of the project at `root` remembered by an earlier analysis, when every question that analysis asked gets the
 * same answer now; the texts it read come with it. Null otherwise.
 */
export async function recallIr(root: string, compiler: string): Promise<RecalledAnalysis | null> {
  let remembered: RememberedIr;
  try {
    remembered = v8.deserialize(fs.readFileSync(irCacheFile(storeDirOf(root)))) as RememberedIr;
  } catch {
    return null;
  }
  if (!remembered || remembered.compiler !== compiler || !Array.isArray(remembered.questions) || !remembered.ir || !Array.isArray(remembered.diagnostics) || !Array.isArray(remembered.cyclic)) return null;
  const host = fsHost(path.resolve(root));
  const sources = new Map<string, string>();
  for (const [method, arg, answer] of remembered.questions) {
    let now: unknown;
    if (method === 'readFile') {
      const text = await host.readFile(arg);
      if (text !== undefined) sources.set(arg, text);
      now = text;
    } else if (method === 'fileSize') now = await host.fileSize(arg);
    else if (method === 'listFiles') now = await host.listFiles(arg);
    else if (method === 'realPath') now = await host.realPath!(arg);
    else if (method === 'packageJson') now = await host.packageJson!();
    else return null;
    if (digest(now) !== answer) return null;
  }
  return { ir: remembered.ir, sources, diagnostics: remembered.diagnostics, cyclic: new Map(remembered.cyclic) };
}

/**
 * Analyses the project (without the semantic checks unless `checks` says so: the build's verdict covers them), and when
 * it comes out clean remembers its IR for `recallIr`. A store that cannot be written only costs the next run the
 * analysis.
 */
export async function analyzeAndRememberIr(root: string, compiler: string, opts: { checks?: boolean } = {}): Promise<AnalyzedProject> {
  const questions: Question[] = [];
  // Loaded on demand: a run that recalls its IR never loads the YAML parser, the schema validators or the resolver.
  const { analyzeProject } = await import('./project.ts');
  const analyzed = await analyzeProject(recordingHost(fsHost(path.resolve(root)), questions), { checks: opts.checks ?? false });
  if (analyzed.ok && analyzed.ir) {
    const remembered: RememberedIr = { compiler, questions, ir: analyzed.ir, diagnostics: analyzed.resolution, cyclic: [...analyzed.cyclic] };
    try {
      await writeFileAtomic(irCacheFile(path.join(path.resolve(root), analyzed.ir.settings.storeDir)), v8.serialize(remembered));
    } catch {
      // Nothing to do: the next run analyses again.
    }
  }
  return analyzed;
}
