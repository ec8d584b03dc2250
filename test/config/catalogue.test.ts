// The catalogue of diagnostic codes: well-formed, never defined twice, and every config (KILN1xxx) and compiler
// (KILN2xxx) code triggered by at least one test or diagnostic fixture.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configCodes } from '../../src/diagnostics/codes/config.ts';
import { compilerCodes } from '../../src/diagnostics/codes/compiler.ts';
import { catalogue } from '../../src/diagnostics/catalogue.ts';
import { repoRoot } from '../helpers/project.ts';
import { casesDir, caseNames } from '../helpers/cases.ts';

function filesUnder(dir: string, ext: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile() && e.name.endsWith(ext)).map((e) => path.join(e.parentPath, e.name));
}

describe('diagnostic catalogue', () => {
  it('keeps config codes in 1xxx and compiler codes in 2xxx, each with a message and a hint', () => {
    for (const [code, def] of Object.entries(configCodes)) {
      expect(code).toMatch(/^KILN1\d{3}$/);
      expect(def.message.length).toBeGreaterThan(0);
      expect(def.hint.length).toBeGreaterThan(0);
    }
    for (const [code, def] of Object.entries(compilerCodes)) {
      expect(code).toMatch(/^KILN2\d{3}$/);
      expect(def.message.length).toBeGreaterThan(0);
      expect(def.hint.length).toBeGreaterThan(0);
    }
  });

  it('defines no code twice across the code files (a later spread would silently replace it)', async () => {
    const dir = path.join(repoRoot, 'src', 'diagnostics', 'codes');
    const seen = new Map<string, string>();
    const twice: string[] = [];
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.ts')).sort()) {
      const mod = (await import(path.join(dir, file))) as Record<string, Record<string, unknown>>;
      for (const table of Object.values(mod)) {
        for (const code of Object.keys(table)) {
          if (seen.has(code)) twice.push(`${code} in ${seen.get(code)} and ${file}`);
          seen.set(code, file);
        }
      }
    }
    expect(twice).toEqual([]);
    expect(seen.size).toBe(Object.keys(catalogue).length);
  });

  it('has a test or fixture triggering every KILN1xxx and KILN2xxx code', () => {
    // Rendered fixture output shows a triggered code as "error KILN1234:" or "warning KILN1234:".
    const rendered = caseNames()
      .map((c) => fs.readFileSync(path.join(casesDir, c, 'expected.txt'), 'utf8'))
      .join('\n');
    const self = path.join(repoRoot, 'test', 'config', 'catalogue.test.ts');
    const tests = ['config', 'compiler', 'cli']
      .flatMap((d) => filesUnder(path.join(repoRoot, 'test', d), '.test.ts'))
      .filter((f) => f !== self)
      .map((f) => fs.readFileSync(f, 'utf8'))
      .join('\n');
    const codes = [...Object.keys(configCodes), ...Object.keys(compilerCodes)].sort();
    const untested = codes.filter((code) => !new RegExp(`(error|warning|info) ${code}:`).test(rendered) && !tests.includes(`'${code}'`));
    expect(untested).toEqual([]);
  });
});
