// A node's module path must stay inside the project: its own module, so that the checks (check/functions.ts) do not
// load the pipeline resolver and, through it, the YAML parser.
import { diag } from '../diagnostics/diagnostic.ts';
import type { Diagnostic } from '../diagnostics/types.ts';
import { escapesRoot } from '../config/project-relative.ts';
import type { NodeIR } from './types.ts';

export function checkModulePath(node: NodeIR, diagnostics: Diagnostic[]): boolean {
  if (escapesRoot(node.func.module)) {
    diagnostics.push(diag('KILN1013', { path: node.func.module }, node.func.location));
    return false;
  }
  return true;
}
