// The one line a run prints about its TensorFlow.js backend. The reasons the faster backends were skipped run to
// hundreds of characters (package errors, GPU adapter messages); they are shown on request, one per line.
import type { SkippedBackend } from './backend.ts';

export function backendLine(sel: { name: string; skipped: readonly SkippedBackend[] }, verbose: boolean): string {
  if (!sel.skipped.length) return `backend: ${sel.name}\n`;
  const names = sel.skipped.map((s) => s.name).join(', ');
  if (!verbose) return `backend: ${sel.name} (skipped ${names}; KILN_DEBUG=1 says why)\n`;
  return `backend: ${sel.name}, after skipping:\n${sel.skipped.map((s) => `  ${s.name}: ${s.reason}\n`).join('')}`;
}
