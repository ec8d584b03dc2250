// What the UI shows of the project's declarations: the graph when they compile, else their diagnostics with the
// command that shows them in full. Never a blank page: a pull request that breaks the YAML is shown as broken.
import path from 'node:path';
import { analyzeProject } from '../project.ts';
import { toJson, type DiagnosticJson } from '../diagnostics/index.ts';
import type { ProjectIR } from '../ir/types.ts';
import { uiGraph, type UiGraph } from './graph.ts';
import { placeFunctions } from './function-place.ts';

export interface ProjectView {
  ok: boolean;
  graph: UiGraph | null;
  diagnostics: DiagnosticJson[];
  /** The command that prints the diagnostics with code frames, when there are any. */
  fix: string | null;
}

export interface AnalyzedView {
  view: ProjectView;
  ir: ProjectIR | null;
}

export async function projectView(root: string): Promise<AnalyzedView> {
  const analyzed = await analyzeProject(root);
  const diagnostics = analyzed.diagnostics.map((d) => {
    const j = toJson(d);
    // Paths relative to the project: the page may be published (static export), the absolute checkout path is noise.
    if (j.file && path.isAbsolute(j.file)) j.file = path.relative(root, j.file).split(path.sep).join('/');
    return j;
  });
  const ir = analyzed.ok ? analyzed.ir : null;
  const graph = ir ? uiGraph(ir) : null;
  if (graph) placeFunctions(graph, root);
  return { ir, view: { ok: analyzed.ok, graph, diagnostics, fix: diagnostics.length ? 'kiln validate' : null } };
}
