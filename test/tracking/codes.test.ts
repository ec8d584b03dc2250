// Every tracking diagnostic code is in the KILN4xxx range and is triggered by at least one test of this folder.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { trackingCodes } from '../../src/diagnostics/codes/tracking.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

describe('tracking diagnostic codes', () => {
  it('are KILN4xxx, each with a message and a hint, and each expected by a test', () => {
    const tests = fs
      .readdirSync(here)
      .filter((f) => f.endsWith('.test.ts') && f !== 'codes.test.ts')
      .map((f) => fs.readFileSync(path.join(here, f), 'utf8'))
      .join('\n');
    for (const [code, def] of Object.entries(trackingCodes)) {
      expect(code).toMatch(/^KILN4\d{3}$/);
      expect(def.message.length).toBeGreaterThan(10);
      expect(def.hint.length).toBeGreaterThan(0);
      expect(tests, `${code} is never expected by a test`).toContain(`'${code}'`);
    }
  });
});
