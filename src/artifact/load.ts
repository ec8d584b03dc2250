// `loadArtifact(path)`: verify the manifest against its run's (or the registry's) record and every file against it, set up the backend training used, load the bundled inference code and
// the fitted state, and return a Predictor that validates records against the input schema.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { diag, KilnError } from '../diagnostics/diagnostic.ts';
import type { Diagnostic } from '../diagnostics/types.ts';
import type { Predictor } from '../serve/predictor.ts';
import type { CompiledModelModule } from '../runtime/compiled.ts';
import type { ArtifactManifest } from './manifest.ts';
import type { Infer, InferenceSpec } from './runtime.ts';
import type { AnchorOptions } from './anchor.ts';
import { verifiedArtifact } from './verify.ts';

export interface LoadedArtifact extends Predictor {
  manifest: ArtifactManifest;
  /** Absolute folder of the artifact. */
  dir: string;
  /** The backend predictions run on (null when the model does not use TensorFlow.js). */
  backend: string | null;
  /** Warnings from loading (a different backend than training's, say). */
  warnings: Diagnostic[];
}

/**
 * Without `digest`, an artifact in a run store (<store>/artifacts/<model>/<run-id>) is checked against the digest and
 * parity verdict its run recorded; any other folder is refused unless `trust: 'manifest'`.
 */
export interface LoadOptions extends AnchorOptions {
  /** Use this backend instead of the one the manifest names. */
  backend?: string;
}

function validatorFor(schema: Record<string, unknown>): ValidateFunction {
  const ajv = new Ajv({ allErrors: false, strict: false });
  (addFormats as unknown as (a: Ajv) => void)(ajv);
  const copy = { ...schema };
  delete copy.$id;
  return ajv.compile(copy);
}

export async function loadArtifact(dirOrPath: string, opts: LoadOptions = {}): Promise<LoadedArtifact> {
  const dir = path.resolve(dirOrPath);
  const verified = await verifiedArtifact(dir, { ...(opts.digest ? { digest: opts.digest } : {}), ...(opts.trust ? { trust: opts.trust } : {}) });
  const manifest = verified.manifest;
  const warnings: Diagnostic[] = [...verified.warnings];
  let backend: string | null = null;
  if (manifest.backend.name || opts.backend) {
    const { selectBackend } = await import('../ml/backend.ts');
    const wanted = (opts.backend ?? manifest.backend.name) as Parameters<typeof selectBackend>[0];
    let sel;
    try {
      sel = await selectBackend(wanted);
    } catch {
      sel = await selectBackend('auto');
      warnings.push(diag('KILN6010', { artifact: dir, wanted: String(wanted), actual: sel.name }));
    }
    backend = sel.name;
  }
  const mod = (await import(pathToFileURL(path.join(dir, manifest.entry)).href)) as CompiledModelModule & { createInference: (dir: string, spec: InferenceSpec, m: CompiledModelModule) => Promise<Infer> };
  const infer = await mod.createInference(dir, { fitted_state: manifest.fitted_state, inference_parameters: manifest.inference_parameters }, mod);
  const check = validatorFor(manifest.input_schema);
  const validate = (record: unknown): string | null => {
    if (check(record)) return null;
    const e = check.errors?.[0];
    if (!e) return 'is invalid';
    const where = e.keyword === 'required' ? `${e.instancePath}/${String((e.params as { missingProperty: string }).missingProperty)}` : e.instancePath || '(record)';
    return `${where}: ${e.keyword === 'required' ? 'is required' : e.message ?? 'is invalid'}`;
  };
  return {
    manifest,
    dir,
    backend,
    warnings,
    validate,
    async predict(records: unknown[]) {
      for (let i = 0; i < records.length; i++) {
        const problem = validate(records[i]);
        if (problem) throw new KilnError(diag('KILN6007', { index: i, problem, schema: JSON.stringify(manifest.input_schema).slice(0, 300) }));
      }
      return infer(records);
    },
  };
}
