// What a run did differently from what the commit declares: parameters other than parameters.yaml's, pinned dataset
// versions, a part of the pipeline only, another backend than kiln.yaml's. `kiln publish` ships only runs of main as
// committed (or records the departures when told to accept them). --no-cache is not one: a node is skipped only when
// its code, parameters and inputs are those of an execution whose outputs are restored, so the result is the same.
import { isDeepStrictEqual } from 'node:util';
import type { PipelineIR, ProjectIR } from '../ir/types.ts';
import { flattenParams } from '../tracking/params.ts';
import type { RunRecord } from '../tracking/store.ts';

export const FILTER_FLAGS: Record<string, string> = {
  nodes: '--nodes',
  fromNodes: '--from-nodes',
  toNodes: '--to-nodes',
  fromInputs: '--from-inputs',
  toOutputs: '--to-outputs',
  tags: '--tags',
  namespaces: '--namespaces',
};

const show = (v: unknown) => (v === undefined ? '(none)' : JSON.stringify(v));

/**
 * Each departure of `run` from the declarations at HEAD, in words (empty: a run of main as committed). Parameters and
 * the nodes that ran are compared with the record itself, so that a departure the invocation does not explain (or a
 * run recorded before kiln kept its invocation) is still found.
 */
export function overridesOf(run: RunRecord, ir: ProjectIR, pipeline: PipelineIR): string[] {
  const out: string[] = [];
  const inv = run.invocation;
  if (!inv) out.push('unknown options: the run was recorded before kiln kept the options a run was started with');

  const committed = flattenParams(ir.parameters.values);
  const keys = [...new Set([...Object.keys(committed), ...Object.keys(run.params)])].sort();
  const changed = keys.filter((k) => !isDeepStrictEqual(committed[k], run.params[k]));
  if (changed.length) {
    const given = changed.filter((k) => inv && k in inv.params);
    const list = changed.map((k) => `${k}=${show(run.params[k])} (parameters.yaml: ${show(committed[k])})`).join(', ');
    out.push(`${given.length === changed.length ? '--params ' : 'parameters '}${list}`);
  }

  const pins = Object.entries(inv?.loadVersions ?? {});
  if (pins.length) out.push(`--load-version ${pins.map(([d, v]) => `${d}:${v}`).join(',')}`);

  const ran = new Set(run.nodes.filter((n) => n.status === 'FINISHED').map((n) => n.node));
  const missing = pipeline.nodes.map((n) => n.name).filter((n) => !ran.has(n));
  const flags = Object.entries(inv?.filter ?? {}).map(([k, v]) => `${FILTER_FLAGS[k] ?? k} ${v.join(',')}`);
  if (missing.length) out.push(`${flags.length ? flags.join(' ') : 'a part of the pipeline'}: ${missing.join(', ')} did not run`);

  // The backend changes the trained numbers (kernels, float rounding): a model trained elsewhere is not main's.
  if (inv?.backend && inv.backend !== ir.settings.backend) out.push(`--backend ${inv.backend} (kiln.yaml: ${ir.settings.backend})`);
  return out;
}
