// `npm run docs`: regenerates the reference pages in docs/ from their sources (schemas, command definitions, the
// diagnostic catalogue and its fixtures). test/docs/references.test.ts fails when a committed page is stale.
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './repo.ts';
import { yamlReference } from './yaml-reference.ts';
import { cliReference } from './cli-reference.ts';
import { diagnosticsIndex } from './diagnostics-index.ts';

/** Each generated page, by its path in the repository. */
export const generatedPages: Record<string, () => string | Promise<string>> = {
  'docs/reference/yaml.md': yamlReference,
  'docs/reference/cli.md': cliReference,
  'docs/diagnostics.md': diagnosticsIndex,
};

export const regenerateCommand = 'npm run docs';

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(repoRoot, 'scripts/docs/generate.ts')) {
  for (const [rel, make] of Object.entries(generatedPages)) {
    const file = path.join(repoRoot, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, await make());
    process.stdout.write(`wrote ${rel}\n`);
  }
}
