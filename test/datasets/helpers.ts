// Shared set-up for dataset tests: a temporary project root, catalog entries and a DatasetEnv that keeps metrics.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DatasetIR, DatasetType } from '../../src/ir/types.ts';
import { isKilnError } from '../../src/diagnostics/index.ts';
import type { DatasetEnv } from '../../src/runtime/datasets/index.ts';

export interface TestProject {
  root: string;
  env: DatasetEnv & { recorded: Array<[string, Record<string, number>]> };
  cleanup(): void;
}

export function tempProject(overrides: Partial<DatasetEnv> = {}): TestProject {
  const root = mkdtempSync(path.join(tmpdir(), 'kiln-ds-'));
  const recorded: Array<[string, Record<string, number>]> = [];
  const env = {
    root,
    allowedPaths: [],
    saveVersion: '2024-01-01T00.00.00.000Z',
    recordMetrics: (name: string, m: Record<string, number>) => void recorded.push([name, m]),
    recorded,
    ...overrides,
  };
  return { root, env, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

export function entry(name: string, type: DatasetType, extra: Partial<DatasetIR> = {}): DatasetIR {
  return { name, type, declared: true, versioned: false, options: {}, ...extra };
}

/** The codes of the KilnError that `fn` rejects with; fails the test when it resolves or throws something else. */
export async function codesOf(fn: () => unknown): Promise<{ codes: string[]; messages: string[]; hints: string[] }> {
  try {
    await fn();
  } catch (e) {
    if (!isKilnError(e)) throw e;
    return { codes: e.diagnostics.map((d) => d.code), messages: e.diagnostics.map((d) => d.message), hints: e.diagnostics.map((d) => d.hint ?? '') };
  }
  throw new Error('expected a KilnError, but nothing was thrown');
}
