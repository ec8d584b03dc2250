// KILN8001-8049: `kiln ui` (the web app over a project and its run store); see src/diagnostics/catalogue.ts for the ranges.
import type { CodeDefinition } from '../types.ts';

export const uiCodes = {
  KILN8001: { severity: 'error', message: "invalid --{flag} '{actual}': expected {expected}", hint: 'For example: kiln ui {example}' },
  KILN8002: { severity: 'error', message: 'cannot listen on {host}:{port}: {reason}', hint: 'Another program holds that port, or the address is not this machine\'s: pick another with --port (--port 0 takes any free one) or --host.' },
  KILN8003: { severity: 'error', message: "no preview of dataset '{dataset}': its path {path} is outside the project", hint: 'kiln ui shows files inside the project folder only ({root}); a catalog path that leaves it (.., an absolute path, a symbolic link) is refused. Keep the data inside the project, or preview it with your own tools.' },
  KILN8004: { severity: 'error', message: "no dataset '{dataset}' in this project.{suggestion}", hint: 'Datasets of this project: {available}.' },
  KILN8005: { severity: 'error', message: "dataset '{dataset}' has no data at {path} yet", hint: 'Run the pipeline that writes it: kiln run {pipeline}' },
  KILN8006: { severity: 'error', message: "dataset '{dataset}' is of type {type}, which has no preview", hint: 'Previews show the first rows of jsonl, csv and json datasets; {type} datasets are shown by their type and path only.' },
  KILN8007: { severity: 'error', message: 'cannot write the static site to {dir}: {reason}', hint: 'kiln ui build replaces only a folder it wrote before (it holds kiln-ui.json) or an empty one: choose another --out, or remove that folder first.' },
  KILN8008: { severity: 'error', message: 'no such page of the kiln ui API: {path}', hint: 'The API answers /api/project, /api/types, /api/runs, /api/runs/<id>, /api/runs/<id>/files/<name>, /api/compare?ids=<a>,<b>, /api/models, /api/plan and /api/datasets/<name>/preview.' },
  KILN8009: { severity: 'error', message: 'the kiln ui server is read-only: {method} is not allowed', hint: 'It answers GET and HEAD only; change the project with the kiln commands (kiln run, kiln publish, kiln registry).' },
  KILN8010: { severity: 'error', message: "bad query parameter {name}='{value}': {reason}", hint: '{fix}' },
} satisfies Record<string, CodeDefinition>;
