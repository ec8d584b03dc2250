// The source of the other test files in a test's folder: the codes tests check that each diagnostic of a range is
// asserted by one of them.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export function siblingTestSources(moduleUrl: string): string {
  const self = fileURLToPath(moduleUrl);
  const here = path.dirname(self);
  return fs
    .readdirSync(here)
    .filter((f) => f.endsWith('.test.ts') && f !== path.basename(self))
    .map((f) => fs.readFileSync(path.join(here, f), 'utf8'))
    .join('\n');
}
