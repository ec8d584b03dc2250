// Skips the type-check when nothing it read has changed: the key is a hash of the generated files, every
// project source file the last check read, and the TypeScript configuration.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import type * as TS from 'typescript';
import type { Diagnostic } from '../diagnostics/types.ts';
import type { ProjectIR } from '../ir/types.ts';
import type { CompileOutput } from './compile.ts';
import { typecheck } from './typecheck.ts';
import { writeFileAtomic } from '../runtime/atomic.ts';

// Required, not imported: imported from an ES module, Node would first scan all of TypeScript's 9 MB for its named
// exports (cjs-module-lexer), which costs more than loading it.
const ts: typeof TS = createRequire(import.meta.url)('typescript');

interface CacheEntry {
  key: string;
  files: string[];
  diagnostics: Diagnostic[];
}

async function keyOf(root: string, output: CompileOutput, files: string[]): Promise<string> {
  const h = createHash('sha256');
  h.update(`ts ${ts.version}\n`);
  for (const [rel, text] of [...output.files.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) h.update(`${rel}\0${text}\0`);
  for (const rel of [...files, 'tsconfig.json', 'package.json'].sort()) {
    let text = '';
    try {
      text = await fs.readFile(path.join(root, rel), 'utf8');
    } catch {
      text = '<missing>';
    }
    h.update(`${rel}\0${text}\0`);
  }
  return h.digest('hex');
}

/** Type-checks, or returns the result of an identical earlier check. */
export async function cachedTypecheck(ir: ProjectIR, output: CompileOutput): Promise<{ diagnostics: Diagnostic[]; cached: boolean; projectFiles: string[] }> {
  const root = ir.settings.root;
  const file = path.join(root, ir.settings.storeDir, 'cache', 'typecheck.json');
  let entry: CacheEntry | null = null;
  try {
    entry = JSON.parse(await fs.readFile(file, 'utf8')) as CacheEntry;
  } catch {
    entry = null;
  }
  if (entry && (await keyOf(root, output, entry.files)) === entry.key) return { diagnostics: entry.diagnostics, cached: true, projectFiles: entry.files };
  const result = typecheck(ir, output);
  const next: CacheEntry = { key: await keyOf(root, output, result.projectFiles), files: result.projectFiles, diagnostics: result.diagnostics };
  try {
    await fs.mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, JSON.stringify(next));
  } catch {
    // A read-only store only costs the next run a type-check.
  }
  return { diagnostics: result.diagnostics, cached: false, projectFiles: result.projectFiles };
}
