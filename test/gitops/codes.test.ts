// Every GitOps diagnostic code is in the KILN7xxx range, has a message and a hint, and is expected by a test here.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { gitopsCodes } from '../../src/diagnostics/codes/gitops.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

describe('gitops diagnostic codes', () => {
  it('are KILN7xxx, each with a message and a hint, and each expected by a test', () => {
    const tests = fs
      .readdirSync(here)
      .filter((f) => f.endsWith('.test.ts') && f !== 'codes.test.ts')
      .map((f) => fs.readFileSync(path.join(here, f), 'utf8'))
      .join('\n');
    expect(Object.keys(gitopsCodes).length).toBeGreaterThan(0);
    for (const [code, def] of Object.entries(gitopsCodes)) {
      expect(code).toMatch(/^KILN7\d{3}$/);
      expect(def.message.length).toBeGreaterThan(10);
      expect(def.hint.length).toBeGreaterThan(0);
      expect(tests, `${code} is never expected by a test`).toMatch(new RegExp(`\\b${code}\\b`));
    }
  });
});
