// kiln.yaml's publish.target, read without validating the whole project: `kiln predict|serve model@alias` must know
// whether the registry is the local store or an OCI repository, quickly and on a project whose pipelines do not load.
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

/** publish.target as written, or null when kiln.yaml is missing, unreadable or names none. */
export function publishTargetOf(projectRoot: string): string | null {
  try {
    const file = path.join(path.resolve(projectRoot), 'kiln.yaml');
    if (fs.statSync(file).size > 64 * 1024) return null;
    const target = (parse(fs.readFileSync(file, 'utf8'), { maxAliasCount: 100 }) as { publish?: { target?: unknown } } | null)?.publish?.target;
    return typeof target === 'string' && target !== '' ? target : null;
  } catch {
    return null;
  }
}
