// KILN7xxx: see src/diagnostics/catalogue.ts for the ranges.
import type { CodeDefinition } from '../types.ts';

export const gitopsCodes = {
} satisfies Record<string, CodeDefinition>;
