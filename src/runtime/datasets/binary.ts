// binary: the whole file as bytes (a Uint8Array).
import { readFile } from 'node:fs/promises';
import type { DatasetIR } from '../../ir/types.ts';
import { writeFileAtomic } from '../atomic.ts';
import { FileDataset } from './file.ts';
import { checkOptions } from './options.ts';
import type { DatasetEnv } from './types.ts';

export class BinaryDataset extends FileDataset<Uint8Array> {
  constructor(entry: DatasetIR, env: DatasetEnv) {
    checkOptions(entry, {});
    super(entry, env);
  }

  protected async read(file: string): Promise<Uint8Array> {
    const buf = await readFile(file);
    // A plain Uint8Array view (not a Buffer), so that values compare and serialize the same as the ones saved.
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  protected async write(file: string, data: Uint8Array): Promise<void> {
    const value: unknown = data;
    if (value instanceof Uint8Array) return writeFileAtomic(file, value);
    if (value instanceof ArrayBuffer) return writeFileAtomic(file, new Uint8Array(value));
    if (ArrayBuffer.isView(value)) return writeFileAtomic(file, new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
    throw this.wrongValue(value, 'a Uint8Array (or another view of bytes)');
  }
}

export function createBinaryDataset(entry: DatasetIR, env: DatasetEnv): BinaryDataset {
  return new BinaryDataset(entry, env);
}
