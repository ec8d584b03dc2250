#!/usr/bin/env node
// Entry point: runs the built CLI (lib/, from src/ by `npm run build`; npm runs it on install and pack). kiln itself
// is never transpiled here: the TypeScript loader is registered only when a project's own module is imported
// (src/runtime/project-module.ts).
import module from 'node:module';

// Node 22.1+: compiled code of kiln and its dependencies is cached on disk between commands (absent on Node 20).
module.enableCompileCache?.();

let main;
try {
  ({ main } = await import('../lib/cli/main.js'));
} catch (e) {
  if (e?.code !== 'ERR_MODULE_NOT_FOUND' || !String(e.message).includes('/lib/cli/main.js')) throw e;
  process.stderr.write(`kiln is not built: run \`npm run build\` in ${new URL('..', import.meta.url).pathname}\n`);
  process.exit(2);
}
process.exitCode = await main(process.argv);
