// KILN4xxx: run tracking (src/tracking/): the run store, the object store, the git stamp, run filters, the model registry.
import type { CodeDefinition } from '../types.ts';

export const trackingCodes = {
  KILN4001: { severity: 'warning', message: 'run is not stamped with a git commit: {reason}', hint: 'Runs are reproducible from a commit; run kiln inside a git repository with at least one commit (git init, git add, git commit).' },
  KILN4002: { severity: 'error', message: "no run matches '{id}'", hint: '`kiln runs list` shows the runs of this store ({store}); a unique prefix of an id is enough.' },
  KILN4003: { severity: 'error', message: "run id prefix '{id}' is ambiguous: it matches {count} runs ({matches})", hint: 'Type more characters of the run id.' },
  KILN4004: { severity: 'error', message: "parameter '{key}' of run {run} is already {old}; it cannot be changed to {value}", hint: 'Parameters are written once per run; change parameters.yaml (or the override) and start a new run.' },
  KILN4005: { severity: 'error', message: 'invalid run filter at column {column}: {problem}', hint: "Filters look like: metrics.accuracy > 0.9 and params.split.seed = 1 and tags.branch = 'main' (strings in single quotes; and, or, parentheses; = != < <= > >= LIKE ILIKE)." },
  KILN4006: { severity: 'error', message: "unknown field '{field}' in run filter at column {column}.{suggestion}", hint: 'Fields: {allowed}.' },
  KILN4007: { severity: 'error', message: 'run store {path} has schema version {found}, newer than this kiln supports ({supported})', hint: 'The store was written by a newer kiln; upgrade kiln (npm install kiln@latest) to read it.' },
  KILN4008: { severity: 'error', message: 'run store {path} stayed locked by another process for {ms} ms', hint: 'Another kiln process is writing to the store; wait for it, or raise the busy timeout. A process that hangs while holding the lock can be stopped safely: the store is never left half-written.' },
  KILN4009: { severity: 'error', message: 'cannot open run store {path}: {reason}', hint: 'The file is not a kiln run store, or it is damaged. Move it aside to start a fresh store; `sqlite3 {path} "PRAGMA integrity_check"` tells whether it can be repaired.' },
  KILN4010: { severity: 'error', message: 'run {run} is {status}; cannot {action}', hint: 'Only a RUNNING run accepts parameters, metrics, node executions and files; start a new run.' },
  KILN4011: { severity: 'error', message: "invalid {what} '{name}': {reason}", hint: '{fix}' },
  KILN4012: { severity: 'error', message: "no registered model named '{model}'.{suggestion}", hint: 'Registered models: {available}. A model is registered by `kiln publish`.' },
  KILN4013: { severity: 'error', message: "model '{model}' has no {what} '{ref}'", hint: 'Known {whats} of {model}: {available}.' },
  KILN4014: { severity: 'error', message: "bad model reference '{ref}'", hint: "Write <model>, <model>@<alias> or <model>@v<version>, for example spam-filter@production or spam-filter@v3." },
  KILN4015: { severity: 'error', message: 'object {hash} is not in the object store {path}', hint: 'The object was removed (or the store was copied partially); run the pipeline again to recreate it.' },
  KILN4016: { severity: 'error', message: 'object {hash} in {path} is corrupt: its content hashes to {actual}', hint: 'Delete the damaged object file; the next run that needs it will recompute it.' },
  KILN4017: { severity: 'error', message: "cannot snapshot '{path}': {reason}", hint: 'Snapshots hold regular files and folders; replace links to folders and special files by regular files.' },
  KILN4018: { severity: 'error', message: 'run {run} cannot be deleted: {reason}', hint: '{fix}' },
  KILN4019: { severity: 'error', message: 'no space left for the run store {path} while {doing} ({free} free on its disk)', hint: 'Free at least {needed} on that disk (`kiln gc` removes what no listed run needs), or point `store:` in kiln.yaml at a disk with room. Nothing half-written was kept.' },
  KILN4020: { severity: 'error', message: 'run {run} could not be recorded as {status} in {path}: {reason}', hint: 'The run store cannot be written (see the error above for why the run stopped); the run stays RUNNING there until a later kiln command finds its process gone and marks it KILLED.' },
  KILN4030: { severity: 'error', message: "run {run} has no file '{name}'.{suggestion}", hint: 'Files of this run: {available}. `kiln runs show {run}` lists them.' },
  KILN4031: { severity: 'error', message: 'cannot write {path}: {reason}', hint: 'Choose another --out path in a folder that exists and is writable; nothing was written there.' },
  KILN4032: { severity: 'warning', message: 'the git stamp could not read {what} ({reason}); {known}', hint: 'The run is recorded with its commit, but its uncommitted changes are not fully known. Make these files readable by this user, or list them in .gitignore if they are not part of the project.' },
  KILN4056: { severity: 'error', message: 'pack index {path} is damaged: {reason}', hint: 'Move that .idx file and the .pack file of the same name out of the store; the runs that need objects it listed re-run the nodes that made them.' },
} satisfies Record<string, CodeDefinition>;
