// KILN6xxx: see src/diagnostics/catalogue.ts for the ranges.
// KILN61xx: serving an artifact (src/serve/): the scoring server and batch prediction.
import type { CodeDefinition } from '../types.ts';

export const artifactCodes = {
  KILN6101: { severity: 'error', message: 'line {line} of {file} does not match the model input schema: {problem}', hint: "Each line must be one record the model accepts (see the artifact's input_schema, or GET /metadata on a running server); fix or remove line {line}." },
  KILN6102: { severity: 'error', message: 'line {line} of {file} is not valid JSON (column {column}): {detail}', hint: 'The input is JSON Lines: one complete JSON value per line, with no line breaks inside a record.' },
  KILN6103: { severity: 'error', message: 'line {line} of {file} is empty', hint: 'Output line i answers input line i, so every line must hold a record; remove the empty line (empty lines at the end of the file are allowed).' },
  KILN6104: { severity: 'error', message: 'the model failed on line {line} of {file}: {detail}', hint: 'The record passed the input schema but the model threw on it; check the record, and report it if the model should accept it.' },
  KILN6105: { severity: 'error', message: 'cannot read {what} {path}: {reason}', hint: 'Check that the path exists and is a readable file.' },
  KILN6106: { severity: 'error', message: 'cannot write the predictions to {path}: {reason}', hint: 'Check that the folder exists and is writable; nothing was written there.' },
  KILN6107: { severity: 'error', message: "{what} option '{option}' must be {expected}, but is {actual}", hint: 'Change {option} to {expected}.' },
  KILN6108: { severity: 'error', message: 'cannot listen on {host}:{port}: {reason}', hint: '{fix}' },
  KILN6109: { severity: 'error', message: 'artifact {artifact} has no record to verify its manifest.json against: {reason}', hint: '{fix}' },
  KILN6110: { severity: 'error', message: 'artifact {artifact} did not pass its parity check: run {run} records {verdict}', hint: 'Only an artifact whose parity check passed may be loaded or reused; rebuild and check it with `kiln package {run}`.' },
  KILN6111: { severity: 'error', message: 'artifact {artifact} holds {file}, which is {kind}, not a regular file', hint: 'An artifact holds only regular files and folders (a link could point anywhere, a FIFO never ends); replace it with the file itself, or rebuild the artifact with `kiln package <run-id>`.' },
  KILN6112: { severity: 'warning', message: 'artifact {artifact} is loaded on trust of its manifest.json: every file matches the sha256 the manifest lists, but nothing anchors the manifest itself (no run or registry record of its digest {digest})', hint: 'Anyone able to edit the files could also have rewritten manifest.json; load it from its run store or the registry (model@alias), or pass the digest recorded when it was built or published.' },
  KILN6120: { severity: 'error', message: "kiln serve --{flag} must be {expected}, but is '{actual}'", hint: 'Pass {example}.' },
  KILN6130: { severity: 'error', message: '{count} more bad line(s) in {file}', hint: 'No predictions were written. Fix these lines, or pass `--on-error skip` to predict the other lines (a bad line gets null as its output line) and list the bad ones in an errors file.' },
  KILN6131: { severity: 'error', message: 'artifact {artifact} needs {package} {version} installed where it is loaded, but {problem}', hint: 'It was verified on backend {backend}, whose native or GPU code an artifact cannot carry. Install exactly what it was verified with in the folder that holds it, or one above (`npm install --save-exact {install}`), or package a run on the wasm or cpu backend (`kiln run --backend wasm`): such an artifact carries TensorFlow.js and needs nothing installed.' },
  KILN6132: { severity: 'error', message: 'artifact {artifact} does not carry TensorFlow.js (manifest format 1: it was built by a kiln that left TensorFlow.js to the host) and none is installed where it lies', hint: 'Rebuild it in its project with `kiln package {run}`: the new artifact carries TensorFlow.js and runs anywhere. Or install @tensorflow/tfjs@{version} in the folder that holds it, or one above.' },
} satisfies Record<string, CodeDefinition>;
