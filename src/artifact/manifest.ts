// The artifact manifest (schema/manifest.schema.json): its type and its validation.
import { Ajv } from 'ajv';
import { readSchema } from '../config/schemas.ts';
import type { FittedStateEntry } from './runtime.ts';

export const MANIFEST_FILE = 'manifest.json';
export const ENTRY_FILE = 'model.mjs';
export const PARITY_FILE = 'parity.jsonl';
/** The format builds write. */
export const ARTIFACT_FORMAT = 2;

export interface ArtifactManifest {
  [key: string]: unknown;
  /** 2 since artifacts carry TensorFlow.js (`runtime`); a format 1 artifact takes it from the host. */
  format: 1 | 2;
  model: string;
  run_id: string;
  pipeline: string;
  git: { commit: string | null; branch: string | null; dirty: boolean | null };
  kiln_version: string;
  backend: { name: string | null; tfjs: string | null };
  /** Absent in format 1. */
  runtime?: ArtifactRuntime;
  input_schema: Record<string, unknown>;
  output_schema: Record<string, unknown>;
  parameters: Record<string, unknown>;
  inference_parameters: Record<string, unknown>;
  metrics: Record<string, number>;
  nodes: Array<{ name: string; fingerprint: string | null }>;
  fitted_state: Record<string, FittedStateEntry>;
  entry: string;
  parity: { file: string; records: number; source: string; verified_by: string };
  generated_sha256: string;
  files: Record<string, string>;
}

export interface ArtifactRuntime {
  /** carried: TensorFlow.js is inside model.mjs (and wasm/); host: it comes from node_modules above the artifact. */
  tensorflow: 'carried' | 'host';
  /** Package → exact version that must be installed where the artifact lies. */
  requires: Record<string, string>;
}

let validateManifest: ((v: unknown) => boolean) & { errors?: Array<{ instancePath: string; message?: string }> | null } | undefined;

/** Null when `v` is a valid manifest, else what is wrong with it. */
export function manifestProblem(v: unknown): string | null {
  if (!validateManifest) validateManifest = new Ajv({ allErrors: false, strict: false }).compile(readSchema('manifest'));
  if (validateManifest(v)) return null;
  const e = validateManifest.errors?.[0];
  return e ? `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}` : 'it is invalid';
}
