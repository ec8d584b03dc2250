// Runs in a fresh process: loads a built artifact and replays its parity records in one predict call, as training
// computed them in one node run. Prints a JSON verdict on stdout.
import fs from 'node:fs/promises';
import path from 'node:path';
import { loadArtifact } from './load.ts';
import { canonicalJson } from '../runtime/runner.ts';
import { isKilnError } from '../diagnostics/diagnostic.ts';

const dir = process.argv[2];
try {
  // The builder checks a folder it just wrote, before any run records its digest: nothing else anchors it yet.
  const artifact = await loadArtifact(dir, { trust: 'manifest' });
  const lines = (await fs.readFile(path.join(dir, artifact.manifest.parity.file), 'utf8')).split('\n').filter(Boolean);
  const pairs = lines.map((l) => JSON.parse(l) as { input: unknown; output: unknown });
  const outputs = await artifact.predict(pairs.map((p) => p.input));
  let mismatch: { record: number; expected: string; got: string } | null = null;
  for (let i = 0; i < pairs.length; i++) {
    const expected = canonicalJson(pairs[i].output);
    const got = canonicalJson(outputs[i]);
    if (expected !== got) {
      mismatch = { record: i + 1, expected, got };
      break;
    }
  }
  process.stdout.write(JSON.stringify({ ok: mismatch === null, records: pairs.length, backend: artifact.backend, mismatch }) + '\n');
} catch (e) {
  process.stdout.write(JSON.stringify({ ok: false, error: isKilnError(e) ? e.diagnostics : String((e as Error)?.stack ?? e) }) + '\n');
}
