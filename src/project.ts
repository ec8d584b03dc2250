// The front half of the compiler: load declarations, resolve the IR, run the checks.
import path from 'node:path';
import { fsHost, type ProjectHost } from './config/host.ts';
import { loadProject, type LoadedProject } from './config/load.ts';
import { resolveProject } from './ir/resolve.ts';
import { hasErrors, settleDiagnostics } from './diagnostics/diagnostic.ts';
import type { Diagnostic } from './diagnostics/types.ts';
import type { ProjectIR } from './ir/types.ts';

export interface AnalyzedProject {
  loaded: LoadedProject;
  /** The IR, or null when declarations could not be resolved at all. */
  ir: ProjectIR | null;
  diagnostics: Diagnostic[];
  ok: boolean;
  /** The diagnostics of loading and resolving alone (those of the checks left out): what the IR cache remembers. */
  resolution: Diagnostic[];
  /** The cycle of each pipeline that has one (found while resolving; reported by the checks). */
  cyclic: Map<string, string[]>;
}

/** The checks module, imported once: each dynamic import asks the module loader again, which costs milliseconds. */
let checksModule: Promise<typeof import('./check/index.ts')> | undefined;

/** `checks: false` resolves the IR without the semantic checks (a caller that has their verdict cached). */
export async function analyzeProject(hostOrRoot: ProjectHost | string, opts: { checks?: boolean } = {}): Promise<AnalyzedProject> {
  const host = typeof hostOrRoot === 'string' ? fsHost(path.resolve(hostOrRoot)) : hostOrRoot;
  const loaded = await loadProject(host);
  const diagnostics = [...loaded.diagnostics];
  let ir: ProjectIR | null = null;
  let cyclic = new Map<string, string[]>();
  // Only resolve once every file parsed and validated: resolution relies on the schema's shapes.
  if (!hasErrors(diagnostics)) {
    const resolved = resolveProject(loaded);
    diagnostics.push(...resolved.diagnostics);
    ir = resolved.ir;
    cyclic = resolved.cyclic;
  }
  const resolution = settleDiagnostics(diagnostics);
  if (ir && opts.checks !== false) {
    // Loaded on demand: a caller with the checks' verdict cached never loads them.
    const { checkProject } = await (checksModule ??= import('./check/index.ts'));
    diagnostics.push(...(await checkProject(ir, loaded.sources, cyclic)));
  }
  const sorted = settleDiagnostics(diagnostics);
  return { loaded, ir, diagnostics: sorted, ok: !hasErrors(sorted), resolution, cyclic };
}
