// The machine-readable summary `kiln run --json` prints on stdout, for CI scripts: one JSON object whatever the outcome
// (a pipeline that does not compile included), with the exit code the command ends with.
import path from 'node:path';
import { toJson, type Diagnostic, type DiagnosticJson } from '../diagnostics/index.ts';
import type { NodeExecution } from '../runtime/hooks.ts';
import type { BuiltArtifact } from '../artifact/build.ts';
import { displayPath, type Io } from './io.ts';

export interface RunJsonNode {
  node: string;
  /** ran: executed; skipped: unchanged, outputs restored from the cache; failed; not_run: the run stopped before it. */
  status: 'ran' | 'skipped' | 'failed' | 'not_run';
  duration_ms: number | null;
  /** For a skipped node, the run whose execution was reused. */
  reused_from: string | null;
  /** Catalog datasets put back from the cache because their files had been changed by hand. */
  restored: string[];
}

export interface RunJson {
  run_id: string | null;
  pipeline: string | null;
  /** FINISHED, FAILED or KILLED; FAILED with run_id null when the pipeline could not start (see diagnostics). */
  status: 'FINISHED' | 'FAILED' | 'KILLED';
  exit_code: number;
  nodes: RunJsonNode[];
  metrics: Record<string, number>;
  /** The model artifact built after the run; null when none was (no model, --no-package, a partial run, a failure). */
  artifact: { model: string; path: string; digest: string | null; parity: { records: number; backend: string | null; verified_by: string } } | null;
  diagnostics: DiagnosticJson[];
}

/** Collects the summary while the run goes; `print` writes it once, at the end. */
export class RunJsonSummary {
  readonly data: RunJson = { run_id: null, pipeline: null, status: 'FAILED', exit_code: 0, nodes: [], metrics: {}, artifact: null, diagnostics: [] };

  constructor(private readonly io: Io) {}

  diagnostics(list: readonly Diagnostic[], root: string): void {
    for (const d of list) this.data.diagnostics.push(toJson(d.location ? { ...d, location: { ...d.location, file: displayPath(this.io, path.resolve(root, d.location.file)) } } : d));
  }

  nodes(planned: readonly string[], executions: readonly NodeExecution[]): void {
    const byNode = new Map(executions.map((x) => [x.node, x]));
    this.data.nodes = planned.map((node) => {
      const x = byNode.get(node);
      if (!x) return { node, status: 'not_run', duration_ms: null, reused_from: null, restored: [] };
      return {
        node,
        status: x.status === 'cached' ? 'skipped' : x.status === 'done' ? 'ran' : 'failed',
        duration_ms: Math.round((x.durationMs ?? x.endedAt - x.startedAt) * 1000) / 1000,
        reused_from: x.reusedFrom ?? null,
        restored: x.restored ?? [],
      };
    });
  }

  artifact(a: BuiltArtifact, digest: string | null): void {
    this.data.artifact = { model: a.manifest.model, path: displayPath(this.io, a.dir), digest, parity: { records: a.parity.records, backend: a.parity.backend ?? null, verified_by: a.parity.verifiedBy } };
  }

  print(exitCode: number): void {
    this.data.exit_code = exitCode;
    this.io.out(JSON.stringify(this.data, null, 2) + '\n');
  }
}
