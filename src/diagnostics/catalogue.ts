// The one catalogue of diagnostic codes. Codes are public API: never renumber or reuse one.
// Ranges: 1xxx config, 2xxx compiler, 3xxx runtime, 4xxx tracking, 5xxx ml, 6xxx artifact and serving, 7xxx gitops, 8xxx ui, 9xxx CLI.
import type { CodeDefinition } from './types.ts';
import { configCodes } from './codes/config.ts';
import { compilerCodes } from './codes/compiler.ts';
import { runtimeCodes } from './codes/runtime.ts';
import { runnerCodes } from './codes/runner.ts';
import { trackingCodes } from './codes/tracking.ts';
import { mlCodes } from './codes/ml.ts';
import { artifactCodes } from './codes/artifact.ts';
import { artifactBuildCodes } from './codes/artifact-build.ts';
import { gitopsCodes } from './codes/gitops.ts';
import { uiCodes } from './codes/ui.ts';
import { cliCodes } from './codes/cli.ts';

export const catalogue = {
  ...configCodes,
  ...compilerCodes,
  ...runnerCodes,
  ...runtimeCodes,
  ...trackingCodes,
  ...mlCodes,
  ...artifactBuildCodes,
  ...artifactCodes,
  ...gitopsCodes,
  ...uiCodes,
  ...cliCodes,
} as const satisfies Record<string, CodeDefinition>;

export type Code = keyof typeof catalogue;

export function definition(code: Code): CodeDefinition {
  return catalogue[code];
}
