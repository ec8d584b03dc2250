// Where node outputs are shared between machines: kiln.yaml's `objects: oci://…`, or KILN_OBJECTS in the environment
// (CI sets it without editing kiln.yaml). Read once here; the run and `kiln objects push` only ever get the result.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { diag, isKilnError, KilnError } from '../diagnostics/diagnostic.ts';
import type { Diagnostic, SourceLocation } from '../diagnostics/types.ts';
import type { ProjectSettings } from '../ir/types.ts';
import { isOciReference, parseOciReference, type OciReference } from '../oci/reference.ts';

export const OBJECTS_VAR = 'KILN_OBJECTS';

/** Why `text` cannot be the objects repository, or null when it can. */
export function objectsRemoteProblem(text: string): string | null {
  if (!isOciReference(text)) return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(text) ? `the scheme ${text.slice(0, text.indexOf('://') + 3)} is not supported (only oci://)` : 'it is not an oci:// URL';
  try {
    const r = parseOciReference(text);
    return r.tag || r.digest ? 'it names a tag or digest; kiln tags what it pushes there itself' : null;
  } catch (e) {
    if (isKilnError(e)) return e.diagnostics[0].message.replace(/^bad OCI reference '[^']*': /, '');
    throw e;
  }
}

/** KILN1040 at `objects:` of kiln.yaml when it cannot be read, for validation (kiln validate, kiln run). */
export function checkObjectsSetting(value: string | undefined, location: SourceLocation): Diagnostic[] {
  if (value === undefined) return [];
  const reason = objectsRemoteProblem(value);
  return reason ? [diag('KILN1040', { remote: value, reason }, location)] : [];
}

/** KILN_OBJECTS, read (KILN1041 when malformed), or null when unset. `kiln run` asks first, before it compiles anything. */
export function objectsRemoteFromEnv(env: NodeJS.ProcessEnv = process.env): OciReference | null {
  const fromEnv = env[OBJECTS_VAR];
  if (fromEnv === undefined || fromEnv === '') return null;
  const reason = objectsRemoteProblem(fromEnv);
  if (reason) throw new KilnError(diag('KILN1041', { remote: fromEnv, reason }));
  return parseOciReference(fromEnv);
}

/** The repository outputs are shared through: KILN_OBJECTS when set, else kiln.yaml's `objects:`, else none. */
export function objectsRemoteOf(settings: Pick<ProjectSettings, 'objects'>, env: NodeJS.ProcessEnv = process.env): OciReference | null {
  const fromEnv = objectsRemoteFromEnv(env);
  if (fromEnv) return fromEnv;
  if (!settings.objects) return null;
  // Validation refuses a malformed `objects:` (KILN1040) at its line; a command that reads kiln.yaml without validating it gets it here.
  const reason = objectsRemoteProblem(settings.objects);
  if (reason) throw new KilnError(diag('KILN1040', { remote: settings.objects, reason }));
  return parseOciReference(settings.objects);
}

/** kiln.yaml's `objects:` as written, read without validating the project (`kiln runs get`); null when absent or unreadable. */
export function objectsSettingOf(projectRoot: string): string | null {
  try {
    const file = path.join(path.resolve(projectRoot), 'kiln.yaml');
    if (fs.statSync(file).size > 64 * 1024) return null;
    // Required here, not imported: `kiln runs list` loads this module and must not pay for the YAML parser.
    const { parse } = createRequire(import.meta.url)('yaml') as typeof import('yaml');
    const value = (parse(fs.readFileSync(file, 'utf8'), { maxAliasCount: 100 }) as { objects?: unknown } | null)?.objects;
    return typeof value === 'string' && value !== '' ? value : null;
  } catch {
    return null;
  }
}
