// The build's precompiled declaration validators (lib/config/validators/, ajv standalone code) judge every declaration
// file of the fixtures exactly as the schemas compiled at run time do: same verdict, same errors (what the
// diagnostics are made from).
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parse } from 'yaml';
import type { ValidateFunction } from 'ajv';
import { describe, expect, it } from 'vitest';
import { DECLARATION_KINDS, validator, type DeclarationKind } from '../../src/config/schemas.ts';
import { fixturesDir, listFiles, repoRoot } from '../helpers/project.ts';

const requireBuilt = createRequire(path.join(repoRoot, 'lib', 'config', 'schemas.js'));

function kindOf(rel: string): DeclarationKind | null {
  const base = path.posix.basename(rel);
  if (base === 'kiln.yaml') return 'project';
  if (base === 'catalog.yaml') return 'catalog';
  if (base === 'parameters.yaml') return 'parameters';
  if (base === 'pipeline.yaml') return 'pipeline';
  return null;
}

const documents = listFiles(fixturesDir).flatMap((rel) => {
  const kind = kindOf(rel);
  if (!kind) return [];
  try {
    return [{ rel, kind, data: parse(fs.readFileSync(path.join(fixturesDir, rel), 'utf8'), { logLevel: 'error' }) as unknown }];
  } catch {
    return []; // YAML syntax errors never reach the schema
  }
});

describe('precompiled declaration validators', () => {
  it('exist in the build for every declaration kind, and are not the run-time compiled ones', () => {
    for (const kind of DECLARATION_KINDS) expect(typeof requireBuilt(`./validators/${kind}.cjs`), kind).toBe('function');
    expect(requireBuilt('./validators/pipeline.cjs')).not.toBe(validator('pipeline'));
  });

  it('give the same verdict and errors as the schemas compiled at run time, on every fixture declaration file', () => {
    expect(documents.length).toBeGreaterThan(50);
    const invalid = documents.filter(({ kind, data }) => !validator(kind)(data));
    expect(invalid.length).toBeGreaterThan(10);
    for (const { rel, kind, data } of documents) {
      const runtime = validator(kind);
      const built = requireBuilt(`./validators/${kind}.cjs`) as ValidateFunction;
      const ok = runtime(data);
      const runtimeErrors = runtime.errors ?? null; // each call sets a new array
      expect(built(data), rel).toBe(ok);
      expect(built.errors ?? null, rel).toEqual(runtimeErrors);
    }
  });
});
