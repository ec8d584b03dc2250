// Temporary project copies that are already compiled: generated/ written and the type-check cached in .kiln/cache,
// so that each `kiln run` of a test spends its time running, not type-checking. The cache key is the content of
// the files, not their folder, so clones of a warm copy stay warm.
import fs from 'node:fs';
import { buildProject, writeGenerated } from '../../src/build.ts';
import { copyProject, tempDir } from './project.ts';

/** A temporary copy of a fixture project (or any folder), compiled and type-checked once. */
export async function warmProject(src: string): Promise<string> {
  const root = copyProject(src, 'kiln-warm-');
  const build = await buildProject(root, { typecheck: 'cached' });
  if (!build.ok || !build.ir || !build.output) throw new Error(`fixture ${src} does not build:\n${build.diagnostics.map((d) => `${d.code}: ${d.message}`).join('\n')}`);
  await writeGenerated(root, build.ir.settings.generatedDir, build.output.files);
  return root;
}

/** A fresh temporary copy of a (warm) project folder, store and outputs included. */
export function cloneProject(template: string, prefix = 'kiln-clone-'): string {
  const root = tempDir(prefix);
  fs.cpSync(template, root, { recursive: true });
  return root;
}
