// Where node outputs are shared between machines: kiln.yaml's `objects: oci://…`, or KILN_OBJECTS in the environment
// (CI sets it without editing kiln.yaml). Read once here; the run and `kiln objects push` only ever get the result.
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

/** The repository outputs are shared through: KILN_OBJECTS when set, else kiln.yaml's `objects:`, else none. */
export function objectsRemoteOf(settings: Pick<ProjectSettings, 'objects'>, env: NodeJS.ProcessEnv = process.env): OciReference | null {
  const fromEnv = env[OBJECTS_VAR];
  if (fromEnv !== undefined && fromEnv !== '') {
    const reason = objectsRemoteProblem(fromEnv);
    if (reason) throw new KilnError(diag('KILN1041', { remote: fromEnv, reason }));
    return parseOciReference(fromEnv);
  }
  // Validation refused a malformed `objects:` already (KILN1040), so it reads here.
  return settings.objects ? parseOciReference(settings.objects) : null;
}
