// Turning a node's exception into what the user sees: their message and their stack frames, not kiln's.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const kilnSrc = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const kilnBin = path.join(path.dirname(kilnSrc), 'bin');

function isInternalFrame(line: string, generatedDir?: string): boolean {
  return (
    // Node's own modules (node:internal/…, and node:async_hooks where the runner sets the node context).
    /[( ]node:/.test(line) ||
    line.includes(`${path.sep}node_modules${path.sep}tsx${path.sep}`) ||
    line.includes(kilnSrc + path.sep) ||
    line.includes(kilnBin + path.sep) ||
    (generatedDir !== undefined && line.includes(generatedDir + path.sep)) ||
    /^\s*at (async )?Promise\.all/.test(line) ||
    /^\s*at new Promise/.test(line)
  );
}

/** The error's message and the stack frames from the user's code (kiln's runner and generated wiring removed). */
export function userStack(error: unknown, generatedDir?: string): { message: string; stack: string } {
  if (!(error instanceof Error)) return { message: String(error), stack: '' };
  const lines = (error.stack ?? '').split('\n');
  const frames = lines.filter((l) => /^\s+at /.test(l) && !isInternalFrame(l, generatedDir));
  const message = `${error.name && error.name !== 'Error' ? `${error.name}: ` : ''}${error.message}`;
  return { message, stack: frames.map((f) => f.trim()).join('\n') };
}
