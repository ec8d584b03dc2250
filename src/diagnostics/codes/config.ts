// KILN1xxx: reading and validating declaration files (src/config/).
import type { CodeDefinition } from '../types.ts';

export const configCodes = {
  KILN1001: { severity: 'error', message: 'YAML syntax error: {detail}', hint: 'Fix the YAML syntax at the marked place; indentation and unclosed quotes or brackets are the usual causes.' },
  KILN1002: { severity: 'error', message: "duplicate key '{key}'", hint: 'A key may appear once in a mapping; remove or rename one of them (the first one is at line {firstLine}).' },
  KILN1003: { severity: 'error', message: 'file is {size} bytes, over the limit of {limit} bytes', hint: 'Declaration files are meant to be small; split it, or move data out of YAML into a catalog dataset.' },
  KILN1004: { severity: 'error', message: 'YAML aliases expand to more than {limit} nodes', hint: 'The file expands aliases (*name) into a huge document (an "alias bomb"); write the values out or use fewer nested aliases.' },
  KILN1005: { severity: 'error', message: '{what} must be {expected}, but is {actual}', hint: 'Change the value to {expected}.' },
  KILN1006: { severity: 'error', message: "{what} is missing the required key '{key}'", hint: "Add '{key}:' to this mapping." },
  KILN1007: { severity: 'error', message: "unknown key '{key}' in {what}.{suggestion}", hint: 'Valid keys here: {allowed}.' },
  KILN1008: { severity: 'error', message: '{what} {problem}', hint: '{fix}' },
  KILN1009: { severity: 'error', message: "unknown dataset type '{type}' for '{dataset}'.{suggestion}", hint: 'Dataset types: {allowed}.' },
  KILN1010: { severity: 'error', message: "bad function reference '{ref}'", hint: "Write it as '<file>#<export>', with a relative path starting with ./ or ../, for example ./nodes.ts#featurize." },
  KILN1011: { severity: 'error', message: '{what} not found: {path}', hint: '{fix}' },
  KILN1012: { severity: 'error', message: "record schema '{path}' of dataset '{dataset}' cannot be used: {reason}", hint: 'Point `schema:` at a JSON Schema file (draft 2020-12 or 07) inside the project.' },
  KILN1013: { severity: 'error', message: "path '{path}' escapes the project root", hint: 'Paths are resolved from the project root and must stay inside it; use a relative path, or allow the location in kiln.yaml under `paths.allow`.' },
  KILN1015: { severity: 'error', message: 'the project is not an ES module package: {reason}', hint: 'kiln compiles pipelines to ES modules and runs node code as ES modules; add "type": "module" to {file} (or create a package.json with it at the project root).' },
  KILN1014: { severity: 'error', message: "pipeline '{name}' is declared twice", hint: 'Pipeline names are unique within a project; the other declaration is in {other}.' },
  KILN1016: { severity: 'error', message: 'YAML collections nest more than {limit} levels deep here', hint: 'Declarations nest a few levels; flatten the structure (dotted names, or a data file in the catalog) below {limit} levels.' },
  KILN1017: { severity: 'error', message: 'path {path} contains a control character', hint: 'No file system path contains NUL, and control characters in a path are a slip of the keyboard or the editor; remove them.' },
  KILN1018: { severity: 'error', message: "`{key}: {path}` {problem}", hint: '{fix}' },
  KILN1019: { severity: 'error', message: "path '{path}' leads outside the project through a symbolic link (it resolves to {real})", hint: 'kiln reads and writes only inside the project; replace the link with a folder or file inside the project, or point the path elsewhere.' },
  KILN1020: { severity: 'error', message: 'YAML tag {tag} is not supported in declarations', hint: 'Declarations hold plain data: strings, numbers, booleans, null, lists and mappings. Remove the tag; write a date as a quoted string, and keep binary data in a catalog dataset.' },
  KILN1021: { severity: 'error', message: 'YAML directive {directive} is not supported', hint: 'kiln reads every declaration as YAML 1.2 with the core schema and no custom tags; remove the directive line (and the --- after it).' },
  KILN1022: { severity: 'warning', message: "record schema '{path}' of dataset '{dataset}': {warning}", hint: 'Records are not checked against it. Use a format kiln knows (those of ajv-formats: date, date-time, email, uri, uuid, ...) or remove `format:`.' },
  KILN1027: { severity: 'error', message: "publish.target '{target}' is not a folder kiln can publish to: {reason}", hint: 'Write a folder inside the project (dist/models) or an OCI repository, oci://<registry>/<namespace>[/<model>] (for example oci://ghcr.io/acme/spam-filter); no other URL scheme is supported.' },
} satisfies Record<string, CodeDefinition>;
