// The registry as the UI shows it: each model's versions with their aliases, digests and gate results, and the
// history of every alias (publish, rollback), read through the ModelRegistry interface; or, when publish.target is an
// OCI repository (then it is the registry), read from its tags.
import type { AliasChange, ModelRegistry, ModelVersion, RunStore } from '../tracking/index.ts';
import type { UiGraph } from './graph.ts';

export interface GateResult {
  metric: string;
  /** `>= 0.9`, as the pipeline declares it today. */
  rule: string;
  value: number | null;
  passed: boolean | null;
}

export interface UiModelVersion extends ModelVersion {
  gate: GateResult[];
}

export interface UiRegisteredModel {
  name: string;
  description: string | null;
  aliases: Record<string, number>;
  versions: UiModelVersion[];
  aliasHistory: Record<string, AliasChange[]>;
}

const OPS: Record<string, (a: number, b: number) => boolean> = { '>=': (a, b) => a >= b, '>': (a, b) => a > b, '<=': (a, b) => a <= b, '<': (a, b) => a < b, '==': (a, b) => a === b, '!=': (a, b) => a !== b };

function gateOf(graph: UiGraph | null, model: string): Record<string, string> {
  for (const p of graph?.pipelines ?? []) if (p.model?.name === model) return p.model.gate;
  return {};
}

async function gateResults(store: RunStore | null, v: ModelVersion, gate: Record<string, string>): Promise<GateResult[]> {
  if (!Object.keys(gate).length) return [];
  const run = store && v.runId ? await store.getRun(v.runId).catch(() => null) : null;
  return Object.entries(gate).map(([metric, rule]) => {
    const [op, threshold] = rule.split(' ');
    const value = run?.metrics[metric]?.value ?? null;
    return { metric, rule, value, passed: value === null ? null : (OPS[op]?.(value, Number(threshold)) ?? null) };
  });
}

export async function modelsView(registry: ModelRegistry | null, store: RunStore | null, graph: UiGraph | null): Promise<UiRegisteredModel[]> {
  if (!registry) return [];
  const out: UiRegisteredModel[] = [];
  for (const m of await registry.listModels()) {
    const detail = await registry.showModel(m.name);
    const gate = gateOf(graph, m.name);
    const versions = await Promise.all(detail.versions.map(async (v) => ({ ...v, gate: await gateResults(store, v, gate) })));
    // Aliases no longer set still have a history (a removed alias); the registry lists only current ones.
    const aliasHistory: Record<string, AliasChange[]> = {};
    for (const alias of Object.keys(detail.aliases).sort()) aliasHistory[alias] = await registry.aliasHistory(m.name, alias);
    out.push({ name: m.name, description: detail.description, aliases: detail.aliases, versions, aliasHistory });
  }
  return out;
}

/**
 * The models of an OCI publish target (`oci://<registry>/<namespace>[/<model>]`): versions and aliases are its tags, each
 * version's run, commit and digest its annotations. A registry keeps no log of tag moves, so there is no alias history.
 */
export async function ociModelsView(target: string, models: readonly string[], store: RunStore | null, graph: UiGraph | null): Promise<UiRegisteredModel[]> {
  const { OciModelRepository } = await import('../gitops/oci-registry.ts');
  const out: UiRegisteredModel[] = [];
  for (const name of [...models].sort()) {
    const detail = await new OciModelRepository(target, name).detail();
    if (!detail) continue;
    const gate = gateOf(graph, name);
    const versions = await Promise.all(detail.versions.map(async (v) => ({ ...v, gate: await gateResults(store, v, gate) })));
    out.push({ name, description: detail.description, aliases: detail.aliases, versions, aliasHistory: {} });
  }
  return out;
}
