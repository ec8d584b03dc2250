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
  KILN6130: { severity: 'error', message: '{count} more bad line(s) in {file}', hint: 'No predictions were written. Fix these lines, or pass `--on-error skip` to predict the other lines (a bad line gets null as its output line) and list the bad ones in an errors file.' },
} satisfies Record<string, CodeDefinition>;
