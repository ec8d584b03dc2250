// text: the whole file as one UTF-8 string.
import { readFile } from 'node:fs/promises';
import type { DatasetIR } from '../../ir/types.ts';
import { writeFileAtomic } from '../atomic.ts';
import { FileDataset } from './file.ts';
import { checkOptions } from './options.ts';
import type { DatasetEnv } from './types.ts';

export class TextDataset extends FileDataset<string> {
  constructor(entry: DatasetIR, env: DatasetEnv) {
    checkOptions(entry, {});
    super(entry, env);
  }

  protected async read(file: string): Promise<string> {
    return readFile(file, 'utf8');
  }

  protected async write(file: string, value: string): Promise<void> {
    if (typeof value !== 'string') throw this.wrongValue(value, 'a string');
    await writeFileAtomic(file, value);
  }
}

export function createTextDataset(entry: DatasetIR, env: DatasetEnv): TextDataset {
  return new TextDataset(entry, env);
}
