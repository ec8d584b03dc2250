// Every dataset diagnostic code (KILN3100-KILN3199) is triggered by some test in this folder, and reads well rendered.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runtimeCodes } from '../../src/diagnostics/codes/runtime.ts';
import { renderDiagnostic } from '../../src/diagnostics/index.ts';
import { createDataset } from '../../src/runtime/datasets/index.ts';
import { codesOf, entry, tempProject } from './helpers.ts';
import { isKilnError } from '../../src/diagnostics/index.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const datasetCodes = Object.keys(runtimeCodes).filter((c) => /^KILN31\d\d$/.test(c));

describe('dataset diagnostic codes', () => {
  const sources = readdirSync(here)
    .filter((f) => f.endsWith('.test.ts') && f !== 'codes.test.ts')
    .map((f) => readFileSync(path.join(here, f), 'utf8'))
    .join('\n');

  it.each(datasetCodes)('%s is asserted as the code of a thrown KilnError', (code) => {
    // codesOf(...) results are compared with toEqual([... 'KILN31xx' ...]).
    expect(sources).toMatch(new RegExp(`toEqual\\(\\[[^\\]]*'${code}'`));
  });

  it('renders with code, message and hint at the catalog entry', async () => {
    const p = tempProject();
    try {
      const location = { file: 'pipelines/catalog.yaml', line: 3, column: 1, endLine: 3, endColumn: 10 };
      const ds = createDataset(entry('raw_emails', 'jsonl', { path: 'data/raw/emails.jsonl', location }), p.env);
      let text = '';
      try {
        await ds.load();
      } catch (e) {
        if (!isKilnError(e)) throw e;
        text = renderDiagnostic(e.diagnostics[0], { color: false, source: () => undefined });
      }
      expect(text).toBe(
        "pipelines/catalog.yaml:3:1 error KILN3102: dataset 'raw_emails' has nothing to load: data/raw/emails.jsonl does not exist\n" +
          '  hint: Run the pipeline that produces it first, or put the data at that path.',
      );
      expect((await codesOf(() => ds.load())).codes).toEqual(['KILN3102']);
    } finally {
      p.cleanup();
    }
  });
});
