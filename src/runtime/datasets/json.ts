// json: one JSON document holding the whole value; the schema, when given, checks the whole value on load.
import { readFile } from 'node:fs/promises';
import type { DatasetIR } from '../../ir/types.ts';
import { writeFileAtomic } from '../atomic.ts';
import { FileDataset } from './file.ts';
import { checkOptions, integerOption } from './options.ts';
import { recordCheck, recordError, type RecordCheck } from './schema.ts';
import type { DatasetEnv } from './types.ts';

export const jsonOptions = { indent: integerOption(0, 8) };

/** Parses JSON text; a failure names where the text came from and, when V8 says so, the line and column. */
export function parseJsonText(text: string): { ok: true; value: unknown } | { ok: false; reason: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
}

export class JsonDataset extends FileDataset<unknown> {
  private readonly indent: number;
  private readonly check: RecordCheck | null;

  constructor(entry: DatasetIR, env: DatasetEnv) {
    checkOptions(entry, jsonOptions);
    super(entry, env);
    this.indent = (entry.options.indent as number | undefined) ?? 2;
    this.check = entry.schemaJson ? recordCheck(entry, entry.schemaJson) : null;
  }

  protected async read(file: string): Promise<unknown> {
    let text = await readFile(file, 'utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    const parsed = parseJsonText(text);
    if (!parsed.ok) throw this.unreadable(this.where(file), parsed.reason);
    if (this.check) {
      const problem = this.check(parsed.value);
      if (problem) throw recordError(this.entry, this.where(file), 1, problem);
    }
    return parsed.value;
  }

  protected async write(file: string, value: unknown): Promise<void> {
    let text: string | undefined;
    try {
      text = JSON.stringify(value, null, this.indent || undefined);
    } catch (e) {
      // Cycles and BigInt values cannot be written as JSON.
      throw this.wrongValue(value, `a value JSON can hold (${(e as Error).message})`);
    }
    if (text === undefined) throw this.wrongValue(value, 'a value JSON can hold');
    await writeFileAtomic(file, text + '\n');
  }
}

export function createJsonDataset(entry: DatasetIR, env: DatasetEnv): JsonDataset {
  return new JsonDataset(entry, env);
}
