// KILN2xxx: see src/diagnostics/catalogue.ts for the ranges.
import type { CodeDefinition } from '../types.ts';

export const compilerCodes = {
} satisfies Record<string, CodeDefinition>;
