// KILN3xxx: see src/diagnostics/catalogue.ts for the ranges.
import type { CodeDefinition } from '../types.ts';

export const runtimeCodes = {
  // KILN3100-KILN3199: catalog datasets (src/runtime/datasets/, src/runtime/paths.ts).
  KILN3100: { severity: 'error', message: "path '{path}' of dataset '{dataset}' {reason}", hint: 'Dataset paths are resolved from the project root and must stay inside it; use a relative path inside the project, or allow the location in kiln.yaml under `paths.allow`.' },
  KILN3101: { severity: 'error', message: "{type} dataset '{dataset}' has no path", hint: "Add 'path:' to the catalog entry, relative to the project root." },
  KILN3102: { severity: 'error', message: "dataset '{dataset}' has nothing to load: {why}", hint: '{fix}' },
  KILN3103: { severity: 'error', message: "dataset '{dataset}' has no saved version '{version}'.{suggestion}", hint: 'Saved versions, newest first: {available}.' },
  KILN3104: { severity: 'error', message: "{where}: record {record} of dataset '{dataset}' does not match its schema: {field} {expected}", hint: 'Fix the data, or the schema in {schema}; records are checked against it when the dataset is loaded.' },
  KILN3105: { severity: 'error', message: "{where}: dataset '{dataset}' cannot be read as {type}: {reason}", hint: '{fix}' },
  KILN3106: { severity: 'error', message: "unknown option '{key}' for {type} dataset '{dataset}'.{suggestion}", hint: 'Options of {type} datasets: {allowed}.' },
  KILN3107: { severity: 'error', message: "option '{key}' of dataset '{dataset}' must be {expected}", hint: '{fix}' },
  KILN3108: { severity: 'error', message: "{type} dataset '{dataset}' cannot save {actual}: it expects {expected}", hint: 'Return {expected} from the node that produces this dataset, or change its type in the catalog.' },
  KILN3109: { severity: 'error', message: "{type} dataset '{dataset}' cannot be versioned", hint: 'Remove `versioned: true`; only datasets stored at a path keep versions.' },
  KILN3110: { severity: 'error', message: "partition id '{id}' of dataset '{dataset}' is not a safe relative file name", hint: "Partition ids become file paths under the dataset folder: parts separated by '/', none of them empty or starting with a dot (so no '.' or '..'), and no '\\' or control characters." },
  KILN3111: { severity: 'error', message: "path '{path}' of dataset '{dataset}' is a {actual}, but {what}", hint: 'Was `versioned:` or `type:` of this entry changed since it was last saved? Move the old data away, or change the entry back.' },
  KILN3112: { severity: 'error', message: "no space left on the disk of '{path}' while {doing} dataset '{dataset}' ({free} free)", hint: 'Free at least {needed} on that disk, or move the dataset (its path in the catalog); what was at {path} before is untouched (saves are atomic).' },
} satisfies Record<string, CodeDefinition>;
