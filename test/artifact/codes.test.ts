// Every parity and hermetic-inference diagnostic (KILN6011-6019) is triggered and asserted by a test in this folder.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { artifactBuildCodes } from '../../src/diagnostics/codes/artifact-build.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const tests = fs
  .readdirSync(here)
  .filter((f) => f.endsWith('.test.ts') && f !== path.basename(fileURLToPath(import.meta.url)))
  .map((f) => fs.readFileSync(path.join(here, f), 'utf8'))
  .join('\n');
const parity = Object.keys(artifactBuildCodes).filter((code) => /^KILN601[1-9]$/.test(code));

describe('KILN6011-6019 diagnostics', () => {
  it('exist', () => expect(parity.length).toBeGreaterThan(0));
  for (const code of parity) {
    it(`${code} is asserted by an artifact test`, () => {
      // As rendered (`KILN6011: message`) inside a toMatch, or as `KILN6012 file:line` from the hermetic check's table.
      expect(tests).toMatch(new RegExp(`toMatch\\(/[^\\n]*${code}: |'${code} [\\w/.]+:\\d+`));
    });
  }
});
