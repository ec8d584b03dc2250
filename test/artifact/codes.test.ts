// Every parity and hermetic-inference diagnostic (KILN6011-6019) is triggered and asserted by a test in this folder.
import { describe, expect, it } from 'vitest';
import { siblingTestSources } from '../helpers/sibling-tests.ts';
import { artifactBuildCodes } from '../../src/diagnostics/codes/artifact-build.ts';

const tests = siblingTestSources(import.meta.url);
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
