// The generated reference pages in docs/ (YAML, CLI, diagnostics index) are what their generators make of today's
// schemas, command definitions and catalogue: a change to any of them without `npm run docs` fails here.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generatedPages, regenerateCommand } from '../../scripts/docs/generate.ts';
import { repoRoot } from '../../scripts/docs/repo.ts';
import { catalogue } from '../../src/diagnostics/catalogue.ts';

describe('generated documentation', () => {
  it.each(Object.keys(generatedPages))('%s is up to date', async (rel) => {
    const committed = fs.readFileSync(path.join(repoRoot, rel), 'utf8');
    expect(committed === (await generatedPages[rel]()), `${rel} is stale: run \`${regenerateCommand}\` and commit the result`).toBe(true);
  });

  it('the YAML reference lists every key of the schemas, nested ones included', () => {
    const yaml = fs.readFileSync(path.join(repoRoot, 'docs/reference/yaml.md'), 'utf8');
    for (const key of ['`git.main`', '`<dataset name>.options.delimiter`', '`nodes[NodeDeclaration].inference.allow`', '`model.gate.better_than`', '`fitted_state.<name>.sha256`']) {
      expect(yaml).toContain(key);
    }
    expect(yaml).toMatch(/\| `backend` \| string \| {2}\| `auto` \| one of `auto`/);
  });

  it('the CLI reference documents every command and subcommand with its options', () => {
    const cli = fs.readFileSync(path.join(repoRoot, 'docs/reference/cli.md'), 'utf8');
    for (const heading of ['## kiln run', '## kiln runs compare', '## kiln registry rollback', '## kiln init']) expect(cli).toContain(`\n${heading}\n`);
    expect(cli).toContain('| `--port <port>` | port to listen on (0 picks a free one) | `8080` |');
  });

  it('docs/ml.md shows every export of kiln-ml/ml', async () => {
    const page = fs.readFileSync(path.join(repoRoot, 'docs/ml.md'), 'utf8');
    const api = Object.keys(await import('../../src/ml/index.ts'));
    expect(api.filter((name) => !new RegExp(`\\b${name}\\b`).test(page))).toEqual([]);
  });

  it('the diagnostics index has an entry for every code of the catalogue', () => {
    const index = fs.readFileSync(path.join(repoRoot, 'docs/diagnostics.md'), 'utf8');
    const entries = [...index.matchAll(/^### (KILN\d{4})$/gm)].map((m) => m[1]);
    expect(entries).toEqual(Object.keys(catalogue).sort());
  });
});
