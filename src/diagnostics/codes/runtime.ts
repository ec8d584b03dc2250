// KILN3xxx: see src/diagnostics/catalogue.ts for the ranges.
import type { CodeDefinition } from '../types.ts';

export const runtimeCodes = {
} satisfies Record<string, CodeDefinition>;
