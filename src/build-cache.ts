// What `kiln run` builds before running: the IR, and generated/ up to date and type-checked. When nothing the last
// build read has changed (declarations, record schemas, node code, tsconfig, the generated files on disk), checks,
// codegen and the type-check are skipped: the TypeScript compiler is not even loaded; and the IR itself is recalled
// rather than parsed and resolved again when no declaration changed (ir-cache.ts).
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { analyzeAndRememberIr, recallIr } from './ir-cache.ts';
import { compilerFingerprint, compilerKey } from './compiler-fingerprint.ts';
import type { ProjectIR } from './ir/types.ts';
import { KilnError } from './diagnostics/diagnostic.ts';
import type { Diagnostic } from './diagnostics/types.ts';
import { writeFileAtomic } from './runtime/atomic.ts';
import type { BuildResult } from './build.ts';
import { kilnVersion } from './version.ts';

export interface RunBuild {
  ir: ProjectIR;
  /** Every text the IR was resolved from (declarations, record schemas, node modules), by project-relative path. */
  sources: ReadonlyMap<string, string>;
  /** Warnings of the build (errors are thrown). */
  warnings: Diagnostic[];
  pipelineModules: Record<string, string>;
  modelModules: Record<string, string>;
  /** Generated files rewritten because they were stale (empty on a cache hit). */
  rewritten: { changed: string[]; removed: string[] };
  cached: boolean;
}

interface BuildCacheEntry {
  key: string;
  projectFiles: string[];
  generated: Record<string, string>;
  warnings: Diagnostic[];
  pipelineModules: Record<string, string>;
  modelModules: Record<string, string>;
}

const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

async function readOr(file: string, fallback: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch {
    return fallback;
  }
}

async function buildKey(root: string, sources: ReadonlyMap<string, string>, projectFiles: string[]): Promise<string> {
  const h = createHash('sha256').update(`kiln ${kilnVersion}\n${await compilerFingerprint()}\n`);
  h.update(await readOr(path.join(root, 'node_modules', 'typescript', 'package.json'), ''));
  for (const [rel, text] of [...sources.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) h.update(`${rel}\0${text}\0`);
  for (const rel of [...new Set([...projectFiles, 'tsconfig.json', 'package.json'])].sort()) h.update(`${rel}\0${await readOr(path.join(root, rel), '<missing>')}\0`);
  return h.digest('hex');
}

async function generatedIntact(root: string, generated: Record<string, string>): Promise<boolean> {
  for (const [rel, hash] of Object.entries(generated)) {
    let text: string;
    try {
      text = await fs.readFile(path.join(root, rel), 'utf8');
    } catch {
      return false;
    }
    if (sha(text) !== hash) return false;
  }
  return true;
}

export async function buildForRun(root: string): Promise<RunBuild> {
  const compiler = await compilerKey();
  let quick = await recallIr(root, compiler);
  if (!quick) {
    const analyzed = await analyzeAndRememberIr(root, compiler);
    if (!analyzed.ok || !analyzed.ir) throw new KilnError(analyzed.diagnostics);
    quick = { ir: analyzed.ir, sources: analyzed.loaded.sources, diagnostics: analyzed.diagnostics, cyclic: analyzed.cyclic };
  }
  const cacheFile = path.join(root, quick.ir.settings.storeDir, 'cache', 'build.json');
  let entry: BuildCacheEntry | null = null;
  try {
    entry = JSON.parse(await fs.readFile(cacheFile, 'utf8')) as BuildCacheEntry;
  } catch {
    entry = null;
  }
  if (entry && (await buildKey(root, quick.sources, entry.projectFiles)) === entry.key && (await generatedIntact(root, entry.generated))) {
    return { ir: quick.ir, sources: quick.sources, warnings: entry.warnings, pipelineModules: entry.pipelineModules, modelModules: entry.modelModules, rewritten: { changed: [], removed: [] }, cached: true };
  }
  const { buildProject, writeGenerated, refusedOverwrites } = await import('./build.ts');
  const build = await buildProject(root, { typecheck: 'cached' });
  if (!build.ok || !build.ir || !build.output) throw new KilnError(build.diagnostics);
  const rewritten = await writeGenerated(root, build.ir.settings.generatedDir, build.output.files);
  if (rewritten.foreign.length) throw new KilnError(refusedOverwrites(build.ir.settings, rewritten.foreign));
  const warnings = await rememberBuild(root, build);
  return { ir: build.ir, sources: build.loaded.sources, warnings, pipelineModules: build.output.pipelineModules, modelModules: build.output.modelModules, rewritten, cached: false };
}

/**
 * Records a successful, type-checked build whose files are on disk as the one `kiln run` may reuse; returns its
 * warnings. `kiln compile` calls it too: a run right after it would otherwise build and type-check all over again.
 */
export async function rememberBuild(root: string, build: BuildResult): Promise<Diagnostic[]> {
  const warnings = build.diagnostics.filter((d) => d.severity !== 'error');
  if (!build.ok || !build.ir || !build.output) return warnings;
  const next: BuildCacheEntry = {
    key: await buildKey(root, build.loaded.sources, build.projectFiles),
    projectFiles: build.projectFiles,
    generated: Object.fromEntries([...build.output.files.entries()].map(([rel, text]) => [rel, sha(text)])),
    warnings,
    pipelineModules: build.output.pipelineModules,
    modelModules: build.output.modelModules,
  };
  try {
    const cacheFile = path.join(root, build.ir.settings.storeDir, 'cache', 'build.json');
    await fs.mkdir(path.dirname(cacheFile), { recursive: true });
    await writeFileAtomic(cacheFile, JSON.stringify(next));
  } catch {
    // A store that cannot be written only costs the next run a build.
  }
  return warnings;
}
