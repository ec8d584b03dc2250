// Validated declarations → ProjectIR. Pure: reads only what the loader captured.
import { diag } from '../diagnostics/diagnostic.ts';
import type { Diagnostic } from '../diagnostics/types.ts';
import type { LoadedProject } from '../config/load.ts';
import { escapesRoot, joinRel } from '../config/load.ts';
import { locate } from '../config/yaml.ts';
import { resolveCatalog, loadRecordSchema } from './catalog.ts';
import { resolveParameters } from './parameters.ts';
import { expandPipelines, pipelineLocation, type PipelineDecl, type RawPipeline } from './pipelines.ts';
import { topologicalOrder } from './graph.ts';
import { resolveModel } from './model.ts';
import type { DatasetIR, PipelineIR, ProjectIR } from './types.ts';

export interface ResolveResult {
  ir: ProjectIR | null;
  diagnostics: Diagnostic[];
  /** Pipelines whose node graph has a cycle (their node order is partial). */
  cyclic: Map<string, string[]>;
}

export function resolveProject(loaded: LoadedProject): ResolveResult {
  const diagnostics: Diagnostic[] = [];
  const cyclic = new Map<string, string[]>();
  const settings = loaded.settings;
  if (!settings) return { ir: null, diagnostics, cyclic };
  const datasets = resolveCatalog(loaded.catalogs, loaded.sources, settings.root, settings.allowedPaths, diagnostics);
  const parameters = resolveParameters(loaded.parameters, diagnostics);

  const decls = new Map<string, PipelineDecl>();
  for (const f of loaded.pipelines) {
    if (!f.valid) continue;
    const raw = f.value as RawPipeline;
    const reserved = reservedPipelineName(raw.pipeline);
    if (reserved) {
      diagnostics.push(diag('KILN2028', { what: 'a pipeline', name: raw.pipeline, why: reserved }, locate(f, '/pipeline')));
      continue;
    }
    const other = decls.get(raw.pipeline);
    if (other) {
      diagnostics.push(diag('KILN1014', { name: raw.pipeline, other: other.file.file }, locate(f, '/pipeline')));
      continue;
    }
    // generated/<name>.ts: on macOS and Windows, p.ts and P.ts are one file, and one pipeline would overwrite the other.
    const sameFile = [...decls.values()].find((d) => d.name.toLowerCase() === raw.pipeline.toLowerCase());
    if (sameFile) {
      diagnostics.push(diag('KILN2030', { name: raw.pipeline, other: sameFile.name, otherFile: sameFile.file.file }, locate(f, '/pipeline')));
      continue;
    }
    decls.set(raw.pipeline, { name: raw.pipeline, file: f, raw });
  }
  const expanded = expandPipelines(decls, diagnostics);

  const pipelines: Record<string, PipelineIR> = Object.create(null) as Record<string, PipelineIR>;
  for (const [name, decl] of [...decls.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const nodes = expanded.get(name) ?? [];
    const unique = uniqueByName(nodes);
    const { order, cycle } = topologicalOrder(unique);
    if (cycle) cyclic.set(name, cycle);
    // Nodes that repeat a name stay in the list (at the end), so that the checks report them (KILN2002).
    const repeated = unique.length === nodes.length ? [] : nodes.filter((n) => !unique.includes(n));
    const pipeline: PipelineIR = {
      name,
      file: decl.file.file,
      description: decl.raw.description ?? '',
      nodes: cycle ? nodes : [...order, ...repeated],
      model: null,
      location: pipelineLocation(decl),
    };
    if (decl.raw.model && !cycle) pipeline.model = resolveModel(decl, pipeline, datasets, loaded.sources, diagnostics);
    pipelines[name] = pipeline;
  }
  return { ir: { settings, datasets, parameters, pipelines }, diagnostics, cyclic };
}

/**
 * Why a pipeline cannot have this name, or null. Its module is generated/<name>.ts, beside kiln's own modules
 * (compared without case: on macOS and Windows Datasets.ts and datasets.ts are the same file).
 */
export function reservedPipelineName(name: string): string | null {
  const lower = name.toLowerCase();
  if (lower === 'datasets' || lower === 'parameters' || lower === 'index') {
    return `The module of a pipeline is generated/<name>.ts, and generated/${lower}.ts is kiln's own (${lower === 'index' ? 'the index of all pipelines and models' : lower === 'datasets' ? 'the type of every dataset' : 'the type of the parameters'}); rename the pipeline.`;
  }
  if (lower.endsWith('.model')) {
    return `generated/<pipeline>.model.ts is the inference module of a pipeline's model binding, so this name could overwrite one; rename the pipeline.`;
  }
  return null;
}

/** Duplicate node names are reported by the checks; ordering keeps the first of each name. */
function uniqueByName<T extends { name: string }>(nodes: T[]): T[] {
  const seen = new Set<string>();
  return nodes.filter((n) => (seen.has(n.name) ? false : (seen.add(n.name), true)));
}

export { datasetOf } from './dataset-of.ts';

/** A schema file named relative to a declaration file, loaded from the captured sources. */
export function schemaRelativeTo(file: string, ref: string, sources: ReadonlyMap<string, string>): { rel: string; json: Record<string, unknown> } | string {
  const rel = joinRel(file, ref);
  if (escapesRoot(rel)) return `it is outside the project`;
  const json = loadRecordSchema(rel, sources);
  return typeof json === 'string' ? json : { rel, json };
}
