// Every serving diagnostic (KILN6100-6199) is asserted by a test in this folder.
import { describe, expect, it } from 'vitest';
import { siblingTestSources } from '../helpers/sibling-tests.ts';
import { artifactCodes } from '../../src/diagnostics/codes/artifact.ts';

const tests = siblingTestSources(import.meta.url);
const serving = Object.entries(artifactCodes).filter(([code]) => /^KILN61\d\d$/.test(code));

describe('KILN61xx diagnostics', () => {
  it('exist', () => expect(serving.length).toBeGreaterThan(0));
  for (const [code] of serving) {
    it(`${code} is asserted by a serving test`, () => {
      expect(tests).toMatch(new RegExp(`code: '${code}'|toBe\\('${code}'\\)`));
    });
  }
});
