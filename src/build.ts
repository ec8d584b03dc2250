// The whole compiler front to back: analyze, generate, type-check; and comparing or writing generated/.
import fs from 'node:fs/promises';
import path from 'node:path';
import { analyzeProject, type AnalyzedProject } from './project.ts';
import { compile, GENERATED_HEADER, type CompileOutput } from './codegen/compile.ts';
import { typecheck } from './codegen/typecheck.ts';
import { cachedTypecheck } from './codegen/typecheck-cache.ts';
import { hasErrors, sortDiagnostics } from './diagnostics/diagnostic.ts';
import type { Diagnostic } from './diagnostics/types.ts';
import { diag } from './diagnostics/diagnostic.ts';
import type { ProjectSettings } from './ir/types.ts';
import { writeFileAtomic } from './runtime/atomic.ts';
import type { ProjectHost } from './config/host.ts';

export interface BuildResult extends AnalyzedProject {
  output: CompileOutput | null;
  /** Project source files the type-check read (empty when it did not run). */
  projectFiles: string[];
}

/** `analyzed`: the project already analysed (with its checks) by the caller, which remembered its IR on the way. */
export async function buildProject(hostOrRoot: ProjectHost | string, opts: { typecheck: boolean | 'cached'; analyzed?: AnalyzedProject }): Promise<BuildResult> {
  const analyzed = opts.analyzed ?? (await analyzeProject(hostOrRoot));
  if (!analyzed.ok || !analyzed.ir) return { ...analyzed, output: null, projectFiles: [] };
  const output = await compile(analyzed.ir);
  const diagnostics: Diagnostic[] = [...analyzed.diagnostics, ...output.diagnostics];
  let projectFiles: string[] = [];
  if (opts.typecheck === 'cached' && !hasErrors(diagnostics)) {
    const checked = await cachedTypecheck(analyzed.ir, output);
    diagnostics.push(...checked.diagnostics);
    projectFiles = checked.projectFiles;
  } else if (opts.typecheck && !hasErrors(diagnostics)) {
    const checked = typecheck(analyzed.ir, output);
    diagnostics.push(...checked.diagnostics);
    projectFiles = checked.projectFiles;
  }
  const sorted = sortDiagnostics(diagnostics);
  return { ...analyzed, diagnostics: sorted, ok: !hasErrors(sorted), output, projectFiles };
}

/** Files kiln generated earlier that the current declarations no longer produce. */
async function staleGeneratedFiles(root: string, generatedDir: string, keep: ReadonlySet<string>): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string) => {
    let entries;
    try {
      entries = await fs.readdir(path.join(root, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const child = `${rel}/${e.name}`;
      if (e.isDirectory()) await walk(child);
      else if (e.isFile() && e.name.endsWith('.ts') && !keep.has(child)) {
        const head = (await fs.readFile(path.join(root, child), 'utf8')).slice(0, 200);
        if (isGenerated(head)) out.push(child);
      }
    }
  };
  await walk(generatedDir);
  return out.sort();
}

export interface GeneratedDiff {
  changed: string[];
  removed: string[];
  /** Files at a path kiln would write that kiln did not generate (no header): a person's file, never overwritten. */
  foreign: string[];
}

const isGenerated = (text: string) => text.startsWith(`// ${GENERATED_HEADER}`);

/** KILN2029 for each file kiln refused to overwrite, at kiln.yaml's `generated:` (or the project file). */
export function refusedOverwrites(settings: ProjectSettings, foreign: readonly string[]): Diagnostic[] {
  return foreign.map((file) => diag('KILN2029', { file }, settings.generatedLocation ?? settings.location));
}

/** Which generated files differ from what is on disk. */
export async function diffGenerated(root: string, generatedDir: string, files: ReadonlyMap<string, string>): Promise<GeneratedDiff> {
  const changed: string[] = [];
  const foreign: string[] = [];
  for (const [rel, text] of [...files.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    let current: string | undefined;
    try {
      current = await fs.readFile(path.join(root, rel), 'utf8');
    } catch {
      current = undefined;
    }
    if (current !== text) changed.push(rel);
    if (current !== undefined && !isGenerated(current)) foreign.push(rel);
  }
  const removed = await staleGeneratedFiles(root, generatedDir, new Set(files.keys()));
  return { changed, removed, foreign };
}

/**
 * Writes what changed (each file atomically) and removes kiln's own files that are no longer produced. Writes nothing
 * when a file kiln would write is not one it generated: deletions already spare such files, and writes must too.
 */
export async function writeGenerated(root: string, generatedDir: string, files: ReadonlyMap<string, string>): Promise<GeneratedDiff> {
  const diff = await diffGenerated(root, generatedDir, files);
  if (diff.foreign.length) return diff;
  for (const rel of diff.changed) {
    const abs = path.join(root, rel);
    await fs.mkdir(path.dirname(abs), { recursive: true });
    await writeFileAtomic(abs, files.get(rel)!);
  }
  for (const rel of diff.removed) await fs.rm(path.join(root, rel), { force: true });
  return diff;
}
