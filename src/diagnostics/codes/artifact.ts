// KILN6xxx: see src/diagnostics/catalogue.ts for the ranges.
import type { CodeDefinition } from '../types.ts';

export const artifactCodes = {
} satisfies Record<string, CodeDefinition>;
