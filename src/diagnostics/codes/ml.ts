// KILN5xxx: see src/diagnostics/catalogue.ts for the ranges.
import type { CodeDefinition } from '../types.ts';

export const mlCodes = {
} satisfies Record<string, CodeDefinition>;
