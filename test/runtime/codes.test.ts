// Every runner diagnostic code (KILN30xx) is expected by at least one test of test/runtime or test/e2e.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runnerCodes } from '../../src/diagnostics/codes/runner.ts';

const testRoot = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

describe('runner diagnostic codes', () => {
  const sources = ['runtime', 'e2e']
    .flatMap((dir) =>
      fs
        .readdirSync(path.join(testRoot, dir))
        .filter((f) => f.endsWith('.test.ts') && f !== 'codes.test.ts')
        .map((f) => fs.readFileSync(path.join(testRoot, dir, f), 'utf8')),
    )
    .join('\n');

  it.each(Object.keys(runnerCodes))('%s is expected by a test (as a code or in rendered output)', (code) => {
    expect(code).toMatch(/^KILN30\d\d$/);
    // Asserted as a diagnostic's code ('KILN30xx') or in what the CLI prints (error KILN30xx:).
    expect(sources.includes(`'${code}'`) || sources.includes(`error ${code}:`), `${code} is never expected by a test`).toBe(true);
  });
});
