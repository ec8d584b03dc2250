// kiln's own compiler code and schemas as one digest: the caches of what the compiler concluded (the remembered IR,
// the run's build) are void when a kiln update changes it. Its own module so that `kiln validate` can key the IR cache
// without loading the build cache's code.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { kilnVersion } from './version.ts';

// kiln's code as it runs: src/ (TypeScript) or lib/ (the build, JavaScript).
const kilnSrc = path.join(path.dirname(fileURLToPath(import.meta.url)));

let fingerprint: Promise<string> | undefined;

/** kiln's own compiler code and schemas: a kiln update that changes what a build produces invalidates the caches. */
export function compilerFingerprint(): Promise<string> {
  return (fingerprint ??= fingerprintCompiler());
}

/** The key of the IR cache (ir-cache.ts): kiln's version and its compiler code. */
export async function compilerKey(): Promise<string> {
  return `kiln ${kilnVersion}\n${await compilerFingerprint()}`;
}

async function fingerprintCompiler(): Promise<string> {
  const h = createHash('sha256');
  for (const dir of [path.join(kilnSrc, 'config'), path.join(kilnSrc, 'ir'), path.join(kilnSrc, 'check'), path.join(kilnSrc, 'codegen'), path.join(kilnSrc, 'codegen', 'templates'), path.join(kilnSrc, '..', 'schema')]) {
    let names: string[] = [];
    try {
      names = (await fs.readdir(dir)).filter((n) => /\.(ts|js|hbs|json)$/.test(n) && !n.endsWith('.d.ts')).sort();
    } catch {
      continue;
    }
    for (const n of names) h.update(`${n}\0`).update(await fs.readFile(path.join(dir, n)));
  }
  return h.digest('hex');
}
