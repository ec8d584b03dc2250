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
import { CARRIED_BACKENDS, WASM_DIR } from './carried-tfjs.ts';
import { checkRuntimeRequirements } from './runtime-requirements.ts';

type CarriedSelect = (requested: string, options: { wasmDir: string }) => Promise<{ name: string }>;
type ArtifactModule = CompiledModelModule & {
  createInference: (dir: string, spec: InferenceSpec, m: CompiledModelModule) => Promise<Infer>;
  /** Present when the artifact carries TensorFlow.js and its run set up a backend. */
  selectBackend?: CarriedSelect;
};

async function importEntry(dir: string, manifest: ArtifactManifest): Promise<ArtifactModule> {
  return (await import(pathToFileURL(path.join(dir, manifest.entry)).href)) as ArtifactModule;
}

/**
 * The backend on the artifact's own TensorFlow.js: the one asked for when the artifact carries it, else (KILN6133) the
 * one parity was verified on, else cpu. The WASM binaries are the artifact's, verified with its other files.
 */
async function selectCarried(dir: string, select: CarriedSelect, asked: string, verifiedOn: string | null, warnings: Diagnostic[]): Promise<string> {
  // `auto` picks among what is here; here is what the artifact carries, and the backend it was verified on comes first.
  const wanted = asked === 'auto' ? (verifiedOn ?? 'cpu') : asked;
  const options = { wasmDir: path.join(dir, WASM_DIR) };
  const carried = (b: string | null): b is string => b !== null && (CARRIED_BACKENDS as readonly string[]).includes(b);
  for (const candidate of [wanted, verifiedOn, 'cpu']) {
    if (!carried(candidate)) continue;
    try {
      const name = (await select(candidate, options)).name;
      if (name !== wanted) warnings.push(diag('KILN6133', { artifact: dir, wanted, carried: CARRIED_BACKENDS.join(' and '), actual: name, verified: verifiedOn ?? 'none' }));
      return name;
    } catch {
      // Not usable here (a WASM binary the engine refuses): the next candidate.
    }
  }
  throw new Error(`the artifact's TensorFlow.js has no usable backend, not even cpu (this is a bug in kiln, please report it)`);
}

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
  checkRuntimeRequirements(dir, manifest);
  const wanted = opts.backend ?? manifest.backend.name;
  let backend: string | null = null;
  let mod: ArtifactModule;
  if (manifest.runtime?.tensorflow === 'carried') {
    // The artifact's own TensorFlow.js: its backend is set up through the selectBackend bundled with it, never the host's.
    mod = await importEntry(dir, manifest);
    if (wanted && mod.selectBackend) backend = await selectCarried(dir, mod.selectBackend, wanted, manifest.backend.name, warnings);
  } else {
    if (wanted) {
      const { selectBackend } = await import('../ml/backend.ts');
      let sel;
      try {
        sel = await selectBackend(wanted as Parameters<typeof selectBackend>[0]);
      } catch {
        sel = await selectBackend('auto');
        warnings.push(diag('KILN6010', { artifact: dir, wanted: String(wanted), actual: sel.name }));
      }
      backend = sel.name;
    }
    mod = await importEntry(dir, manifest);
  }
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
