// KILN9xxx: see src/diagnostics/catalogue.ts for the ranges.
import type { CodeDefinition } from '../types.ts';

export const cliCodes = {
} satisfies Record<string, CodeDefinition>;
