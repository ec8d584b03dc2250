// Every failure case under test/fixtures/diagnostics/<case>/ against its expected.txt: the exact text a person
// sees (colour off, paths relative to the case folder). UPDATE_FIXTURES=1 rewrites the expected files; read each
// rewritten file before committing it: it is the user interface.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { caseNames, casesDir, readSpec, runCase } from '../helpers/cases.ts';

const update = process.env.UPDATE_FIXTURES === '1';

describe('diagnostic fixtures', () => {
  it('has cases', () => {
    expect(caseNames().length).toBeGreaterThan(40);
  });

  it.each(caseNames())('%s', async (name) => {
    const { code, output } = await runCase(name);
    const file = path.join(casesDir, name, 'expected.txt');
    if (update) fs.writeFileSync(file, output);
    expect(output).toBe(fs.readFileSync(file, 'utf8'));
    expect(code).toBe(readSpec(name).exit ?? 1);
  });
});
