// The shape of a diagnostic: data first, rendering later (src/diagnostics/render.ts).

export type Severity = 'error' | 'warning' | 'info';

/** A span in a source file; lines and columns are 1-based, end is exclusive of nothing (it marks the last character). */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  /** JSON pointer of the YAML node inside its document, when the location came from YAML. */
  pointer?: string;
}

export interface CodeDefinition {
  severity: Severity;
  /** Message template; `{name}` placeholders are filled from the diagnostic's arguments. */
  message: string;
  /** What the user can do about it; may use the same placeholders. */
  hint: string;
}

export interface Diagnostic {
  code: string;
  severity: Severity;
  message: string;
  hint?: string;
  location?: SourceLocation;
  /** Extra lines shown under the message (the TypeScript error behind a type-check diagnostic, a cycle...). */
  detail?: string;
  /** Other places that explain it (where a parameter that does not fit is declared...). */
  related?: Array<{ message: string; location: SourceLocation }>;
}

/** The JSON form printed by `--json`. */
export interface DiagnosticJson {
  code: string;
  severity: Severity;
  file: string | null;
  line: number | null;
  column: number | null;
  endLine: number | null;
  endColumn: number | null;
  message: string;
  hint: string | null;
  detail?: string;
  related?: Array<{ message: string; file: string; line: number; column: number }>;
}
