// What `kiln registry` does beyond reading: point an alias at a version whose artifact is really there, and roll an
// alias back. Rollback replays the alias's history as a stack: moving to the version just below the top is a
// rollback (pop), anything else a promotion (push); the target is the version below the current one. So rolling back
// twice after v1 → v2 → v3 goes to v2, then v1, and a rollback never bounces back to the version it left.
import fs from 'node:fs';
import path from 'node:path';
import { MANIFEST_FILE } from '../artifact/manifest.ts';
import { verifyArtifact } from '../artifact/verify.ts';
import { diag, KilnError } from '../diagnostics/diagnostic.ts';
import { fsHost } from '../config/host.ts';
import { loadProject } from '../config/load.ts';
import type { ProjectSettings } from '../ir/types.ts';
import type { AliasChange, ModelRegistry, ModelVersion } from '../tracking/registry.ts';

export function rollbackTarget(history: readonly AliasChange[]): { current: number | null; target: number | null } {
  const stack: number[] = [];
  for (const h of history) {
    if (h.version === null) continue;
    if (stack.length >= 2 && stack[stack.length - 2] === h.version) stack.pop();
    else if (stack[stack.length - 1] !== h.version) stack.push(h.version);
  }
  const last = history[history.length - 1];
  const current = last ? last.version : null;
  return { current, target: current !== null && stack.length >= 2 ? stack[stack.length - 2] : null };
}

/** kiln.yaml's settings (only kiln.yaml has to be valid: the registry does not need the pipelines). */
export async function projectSettings(root: string): Promise<ProjectSettings> {
  const loaded = await loadProject(fsHost(root));
  if (!loaded.settings) throw new KilnError(loaded.diagnostics);
  return loaded.settings;
}

/** `3` or `v3`. */
export function parseVersion(model: string, text: string): number {
  const m = /^v?(\d+)$/.exec(text.trim());
  const n = m ? Number(m[1]) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new KilnError(diag('KILN4014', { ref: `${model}@${text}` }));
  return n;
}

async function checkedVersion(registry: ModelRegistry, root: string, model: string, version: number): Promise<ModelVersion> {
  const v = await registry.getVersion(model, version);
  const dir = path.resolve(root, v.artifactPath);
  if (!fs.existsSync(path.join(dir, MANIFEST_FILE))) throw new KilnError(diag('KILN7015', { model, version, path: v.artifactPath }));
  await verifyArtifact(dir, { digest: v.artifactSha256 });
  return v;
}

export interface AliasMove {
  model: string;
  alias: string;
  previous: number | null;
  version: number;
  artifact: string;
}

/** Points `alias` at `version`, after checking that the version's artifact is there and intact. */
export async function moveAlias(registry: ModelRegistry, root: string, model: string, alias: string, version: number): Promise<AliasMove> {
  const v = await checkedVersion(registry, root, model, version);
  const { previous } = await registry.setAlias(model, alias, version);
  return { model, alias, previous, version, artifact: v.artifactPath };
}

/** Moves `alias` back to where it pointed before its current version (or to `to`). */
export async function rollbackAlias(registry: ModelRegistry, root: string, model: string, alias: string, to?: number): Promise<AliasMove> {
  const history = await registry.aliasHistory(model, alias);
  const { current, target } = rollbackTarget(history);
  if (to === undefined) {
    if (current === null) throw new KilnError(diag('KILN7014', { model, alias, reason: history.length ? 'the alias is not set any more' : 'the alias was never set' }));
    if (target === null) throw new KilnError(diag('KILN7014', { model, alias, reason: `v${current} is the first version it pointed at; there is nothing earlier to go back to` }));
  } else if (to === current) {
    throw new KilnError(diag('KILN7014', { model, alias, reason: `it already points at v${to}` }));
  }
  return moveAlias(registry, root, model, alias, to ?? target!);
}
