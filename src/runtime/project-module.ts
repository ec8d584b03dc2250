// Importing the project's own modules (generated pipelines, node code, hooks): they are TypeScript, so the tsx loader
// is registered first, here and only here. Commands that never import a project module never load tsx.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

let loader: Promise<void> | undefined;

// kiln running from its sources (tests, `tsx src/...`) already runs under a TypeScript loader; a second would only
// compete with it. Built kiln (lib/*.js) registers tsx.
const kilnIsTypeScript = path.extname(fileURLToPath(import.meta.url)) === '.ts';

async function registerTypeScript(): Promise<void> {
  if (kilnIsTypeScript) return;
  const { register } = await import('tsx/esm/api');
  register();
}

/** The module at an absolute path, TypeScript or JavaScript. */
export async function importProjectModule(file: string): Promise<unknown> {
  await (loader ??= registerTypeScript());
  return import(pathToFileURL(file).href);
}
