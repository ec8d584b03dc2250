// Every diagnostic code in the catalogue is exercised somewhere in the tests: a code no test mentions is either dead
// or untested. (Each range also has its own, stricter test that the code is actually triggered.)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { catalogue } from '../../src/diagnostics/catalogue.ts';

const testRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function texts(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules' && e.name !== '.kiln' && e.name !== 'generated') texts(p, out);
    } else if (/\.(ts|txt|json|ya?ml)$/.test(e.name) && fs.statSync(p).size < 2_000_000) out.push(fs.readFileSync(p, 'utf8'));
  }
  return out;
}

it('every code of the catalogue appears in a test or a fixture expectation', () => {
  const all = texts(testRoot).join('\n');
  const self = fs.readFileSync(fileURLToPath(import.meta.url), 'utf8');
  const unmentioned = Object.keys(catalogue).filter((code) => !all.replace(self, '').includes(code));
  expect(unmentioned).toEqual([]);
});

it('codes are KILN followed by four digits, each range in its own file', () => {
  for (const code of Object.keys(catalogue)) expect(code).toMatch(/^KILN[1-9]\d{3}$/);
});
