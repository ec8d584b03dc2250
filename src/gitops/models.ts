// Which pipeline or model a GitOps command is about when the user names one, or when the project has just one.
import { diag, KilnError } from '../diagnostics/diagnostic.ts';
import { didYouMean } from '../diagnostics/didyoumean.ts';
import type { ModelBindingIR, PipelineIR, ProjectIR } from '../ir/types.ts';

const capital = (s: string) => s.replace(/^ did/, ' Did');

/** The named pipeline; else the only pipeline, or the only one with a model binding. */
export function choosePipeline(ir: ProjectIR, name?: string): PipelineIR {
  const names = Object.keys(ir.pipelines).sort();
  if (name !== undefined) {
    const p = ir.pipelines[name];
    if (!p) throw new KilnError(diag('KILN2014', { name, suggestion: capital(didYouMean(name, names)), known: names.join(', ') || '(none)' }));
    return p;
  }
  const withModel = names.filter((n) => ir.pipelines[n].model);
  if (withModel.length === 1) return ir.pipelines[withModel[0]];
  if (names.length === 1) return ir.pipelines[names[0]];
  throw new KilnError(diag('KILN2014', { name: '(none given)', suggestion: ' Name one with --pipeline.', known: names.join(', ') || '(none)' }));
}

/** The model binding named `model` (model.name), or the project's only one. */
export function chooseModel(ir: ProjectIR, model?: string): { pipeline: PipelineIR; model: ModelBindingIR } {
  const bound = Object.values(ir.pipelines)
    .filter((p) => p.model)
    .map((p) => ({ pipeline: p, model: p.model! }))
    .sort((a, b) => (a.model.name < b.model.name ? -1 : 1));
  const names = bound.map((b) => b.model.name);
  const available = names.join(', ') || '(none: add a model: binding to a pipeline)';
  if (model === undefined) {
    if (bound.length === 1) return bound[0];
    throw new KilnError(diag('KILN7012', { model: '(none given)', suggestion: bound.length ? ' Name the model to publish.' : '', available }));
  }
  const found = bound.find((b) => b.model.name === model);
  if (!found) throw new KilnError(diag('KILN7012', { model, suggestion: capital(didYouMean(model, names)), available }));
  return found;
}
