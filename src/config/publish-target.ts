// Where models publish: kiln.yaml's publish.target, or the KILN_PUBLISH_TARGET environment variable that replaces it.
// CI sets the variable (the workflow kiln init writes points it at the repository's GHCR namespace), so that a
// developer's clone keeps kiln.yaml's target and kiln.yaml holds no CI-only address. Also read here without validating
// the whole project: `kiln predict|serve model@alias` must know, quickly, whether the registry is the local store or an
// OCI repository, on a project whose pipelines do not load.
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { diag, isKilnError, KilnError } from '../diagnostics/diagnostic.ts';
import type { Diagnostic } from '../diagnostics/types.ts';
import { isOciReference, parseOciReference } from '../oci/reference.ts';

/** Why an oci:// publish target cannot be used, or null. */
export function ociTargetProblem(target: string): string | null {
  try {
    const r = parseOciReference(target);
    return r.tag || r.digest ? 'a publish target names a repository, without a tag or digest (kiln publish chooses the tags)' : null;
  } catch (e) {
    if (isKilnError(e)) return e.diagnostics[0].message.replace(/^bad OCI reference '[^']*': /, '');
    throw e;
  }
}

export const PUBLISH_TARGET_VAR = 'KILN_PUBLISH_TARGET';

/**
 * The environment's replacement for publish.target; null when unset or empty (GitHub Actions gives an unset variable
 * or secret as ''). Only an oci:// repository: a folder named from the environment would escape the checks that keep
 * kiln.yaml's folders inside the project.
 */
export function publishTargetOverride(env: NodeJS.ProcessEnv = process.env): { target: string } | { problem: Diagnostic } | null {
  const value = env[PUBLISH_TARGET_VAR];
  if (value === undefined || value === '') return null;
  const reason = !isOciReference(value) ? 'it is not an oci:// reference' : ociTargetProblem(value);
  return reason ? { problem: diag('KILN7059', { variable: PUBLISH_TARGET_VAR, value: JSON.stringify(value), reason }) } : { target: value };
}

/**
 * The publish target in force: KILN_PUBLISH_TARGET when set (KILN7059 when it cannot be one, as for every command,
 * rather than falling back to the project's store unnoticed), else publish.target as written; null when neither names one.
 */
export function publishTargetOf(projectRoot: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const override = publishTargetOverride(env);
  if (override && 'problem' in override) throw new KilnError(override.problem);
  if (override) return override.target;
  try {
    const file = path.join(path.resolve(projectRoot), 'kiln.yaml');
    if (fs.statSync(file).size > 64 * 1024) return null;
    const target = (parse(fs.readFileSync(file, 'utf8'), { maxAliasCount: 100 }) as { publish?: { target?: unknown } } | null)?.publish?.target;
    return typeof target === 'string' && target !== '' ? target : null;
  } catch {
    return null;
  }
}
