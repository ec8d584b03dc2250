// KILN4xxx: see src/diagnostics/catalogue.ts for the ranges.
import type { CodeDefinition } from '../types.ts';

export const trackingCodes = {
} satisfies Record<string, CodeDefinition>;
