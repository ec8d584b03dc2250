// Every kiln ui diagnostic (KILN8001-8049) is asserted by a test in this folder.
import { describe, expect, it } from 'vitest';
import { siblingTestSources } from '../helpers/sibling-tests.ts';
import { uiCodes } from '../../src/diagnostics/codes/ui.ts';

const tests = siblingTestSources(import.meta.url);

describe('KILN80xx diagnostics', () => {
  it('stay in the range given to kiln ui', () => {
    for (const code of Object.keys(uiCodes)) expect(code).toMatch(/^KILN80[0-4]\d$/);
  });
  for (const code of Object.keys(uiCodes)) {
    it(`${code} is asserted by a kiln ui test`, () => {
      expect(tests).toMatch(new RegExp(`code: '${code}'|toBe\\('${code}'\\)|toContain\\('${code}'\\)`));
    });
  }
});
