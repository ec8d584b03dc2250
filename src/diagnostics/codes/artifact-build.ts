// KILN60xx: building, verifying and loading inference artifacts (src/artifact/). KILN61xx (serving) is in artifact.ts.
import type { CodeDefinition } from '../types.ts';

export const artifactBuildCodes = {
  KILN6001: { severity: 'error', message: "run {run} cannot be packaged: {reason}", hint: '{fix}' },
  KILN6002: { severity: 'error', message: 'artifact {artifact} is tampered with: {problem}', hint: 'An artifact is immutable once built; rebuild it with `kiln package <run-id>` or fetch an intact copy.' },
  KILN6003: { severity: 'error', message: 'artifact {artifact} is missing {file}', hint: 'The manifest lists every file of the artifact; rebuild it with `kiln package <run-id>` or fetch an intact copy.' },
  KILN6004: { severity: 'error', message: 'artifact {artifact} holds a file its manifest does not list: {file}', hint: 'Nothing may be added to a built artifact; remove the file or rebuild the artifact.' },
  KILN6005: { severity: 'error', message: 'artifact {artifact} has an unusable manifest.json: {reason}', hint: 'Rebuild the artifact with `kiln package <run-id>`.' },
  KILN6006: { severity: 'error', message: 'parity check failed: record {record} gives {got} from the artifact, but training computed {expected}', hint: 'The artifact must predict exactly what training computed on the same backend ({backend}). Node code with nondeterminism (Math.random, Date.now, iteration over unordered data) is the usual cause.' },
  KILN6007: { severity: 'error', message: 'record {index} is not a valid input: {problem}', hint: 'Input records must match the model\'s input schema: {schema}' },
  KILN6008: { severity: 'error', message: "model '{model}' has no input schema", hint: "Give the model binding an `input_schema:` (a JSON Schema of one business object), or a `schema:` to the catalog entry of '{input}'." },
  KILN6009: { severity: 'error', message: "no artifact at '{ref}': {reason}", hint: '{fix}' },
  KILN6010: { severity: 'warning', message: 'artifact {artifact} was built on backend {wanted}, which is not available here; predicting on {actual}', hint: 'Predictions may differ from training in the last bits; install the backend the manifest names for bit-identical results.' },
} satisfies Record<string, CodeDefinition>;
