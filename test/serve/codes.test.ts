// Every serving diagnostic (KILN6100-6199) is asserted by a test in this folder.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { artifactCodes } from '../../src/diagnostics/codes/artifact.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const tests = fs
  .readdirSync(here)
  .filter((f) => f.endsWith('.test.ts') && f !== path.basename(fileURLToPath(import.meta.url)))
  .map((f) => fs.readFileSync(path.join(here, f), 'utf8'))
  .join('\n');
const serving = Object.entries(artifactCodes).filter(([code]) => /^KILN61\d\d$/.test(code));

describe('KILN61xx diagnostics', () => {
  it('exist', () => expect(serving.length).toBeGreaterThan(0));
  for (const [code] of serving) {
    it(`${code} is asserted by a serving test`, () => {
      expect(tests).toMatch(new RegExp(`code: '${code}'|toBe\\('${code}'\\)`));
    });
  }
});
