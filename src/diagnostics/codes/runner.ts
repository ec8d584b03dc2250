// KILN30xx: running pipelines (src/runtime/runner.ts, parameters, hooks). KILN31xx (datasets) is in runtime.ts.
import type { CodeDefinition } from '../types.ts';

export const runnerCodes = {
  KILN3001: { severity: 'error', message: "pipeline input '{dataset}' is not found in the catalog", hint: "Node '{node}' reads it and no node of this run produces it. Declare it in the catalog, or include the node that produces it in the run.{suggestion}" },
  KILN3002: { severity: 'error', message: "pipeline input '{dataset}' has nothing to load yet ({where})", hint: '{fix}' },
  KILN3003: { severity: 'error', message: "node '{node}' failed: {error}", hint: '{resume}' },
  KILN3004: { severity: 'error', message: "node '{node}' returned no value for output '{dataset}'", hint: 'Return a value for every output declared in the pipeline (undefined cannot be saved), or remove the output.' },
  KILN3005: { severity: 'error', message: "unknown parameter '{key}' in --params.{suggestion}", hint: 'Overrides replace values declared in parameters.yaml; known keys: {known}.' },
  KILN3006: { severity: 'error', message: "--params {key}={value}: {problem}", hint: '{fix}' },
  KILN3007: { severity: 'error', message: "bad --params argument '{arg}'", hint: 'Write overrides as key=value with dotted keys, separated by commas or given several times: --params split.test_ratio=0.25,seed=7' },
  KILN3008: { severity: 'error', message: "bad --load-version argument '{arg}': {problem}", hint: 'Write it as <dataset>:<version>, naming a versioned catalog dataset, e.g. --load-version classifier:2026-11-26T10.00.00.000Z' },
  KILN3009: { severity: 'error', message: "hook '{ref}' cannot be used: {problem}", hint: 'A hook is an object exported by a module (or a class with a no-argument constructor) with some of the methods of the Hooks interface: beforePipelineRun, afterPipelineRun, beforeNodeRun, afterNodeRun, onNodeError, beforeDatasetLoaded, afterDatasetLoaded, beforeDatasetSaved, afterDatasetSaved.' },
  KILN3010: { severity: 'error', message: 'run interrupted ({signal}) while {running} ran', hint: '{resume}' },
  KILN3011: { severity: 'error', message: "hook {hook} of '{ref}' failed: {error}", hint: 'Fix the hook, or remove it from `hooks:` in kiln.yaml.' },
  KILN3012: { severity: 'error', message: "the compiled module of pipeline '{pipeline}' does not match its declarations: {problem}", hint: 'Run `kiln compile`; generated code is out of date.' },
} satisfies Record<string, CodeDefinition>;
