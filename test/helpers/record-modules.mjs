// Preload (`node --import`) that appends every module URL Node resolves to the file named by KILN_RECORD_MODULES:
// what a command loaded, observed from outside kiln. The hook runs on Node's loader thread and writes synchronously,
// so the list is complete when the process exits.
import { register } from 'node:module';

if (process.env.KILN_RECORD_MODULES) {
  register('./record-modules-hooks.mjs', import.meta.url, { data: { file: process.env.KILN_RECORD_MODULES } });
}
