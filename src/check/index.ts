// All semantic checks of a resolved project.
import type { Diagnostic } from '../diagnostics/types.ts';
import type { ProjectIR } from '../ir/types.ts';
import { checkPipelineGraph, checkUnusedCatalogEntries } from './graph.ts';
import { checkFunctions } from './functions.ts';

export async function checkProject(ir: ProjectIR, sources: ReadonlyMap<string, string>, cyclic: ReadonlyMap<string, string[]>): Promise<Diagnostic[]> {
  const out: Diagnostic[] = [];
  const seenNodes = new Set<string>();
  for (const p of Object.values(ir.pipelines)) {
    checkPipelineGraph(ir, p, cyclic.get(p.name), out);
    // A reused pipeline's nodes appear in several pipelines; check each function once.
    const fresh = p.nodes.filter((n) => {
      const key = `${n.func.module}#${n.func.export}@${n.declaredIn}:${n.func.location?.line}`;
      return seenNodes.has(key) ? false : (seenNodes.add(key), true);
    });
    await checkFunctions(fresh, sources, out);
  }
  checkUnusedCatalogEntries(ir, out);
  return out;
}
