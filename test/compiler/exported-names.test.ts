// Which names a node module exports, as `run: ./module.ts#name` checks them (KILN2006): values only, read by esbuild.
import { describe, expect, it } from 'vitest';
import { exportedNames } from '../../src/check/functions.ts';

const cases: Array<{ name: string; file?: string; code: string; want: string[] | null }> = [
  { name: 'functions, constants, classes and default', code: 'export function a() {}\nexport const b = 1, c = () => 2;\nexport class D {}\nexport default function () {}\n', want: ['D', 'a', 'b', 'c', 'default'] },
  { name: 'types are no candidates', code: "import type { T } from './t.ts';\nexport interface I { x: number }\nexport type U = string;\nexport type { T };\nexport { type I as J };\nexport const v = 1;\n", want: ['v'] },
  { name: 'renamed and re-exported names', code: "const a = 1;\nexport { a as b };\nexport { c } from './c.ts';\nexport * as ns from './ns.ts';\n", want: ['b', 'c', 'ns'] },
  { name: 'a star re-export: any name may exist', code: "export * from './all.ts';\nexport const a = 1;\n", want: null },
  { name: 'a template literal line that reads like a star re-export: no verdict either (on the safe side)', code: 'export const s = `\nexport * from "x"`;\n', want: null },
  { name: 'JavaScript', file: 'nodes.mjs', code: 'export function f() {}\nexport { f as g };\n', want: ['f', 'g'] },
  { name: 'a module that does not parse: no verdict (the type-check reports it)', code: 'export function (', want: null },
];

describe('exportedNames', () => {
  it.each(cases)('$name', async ({ file, code, want }) => {
    const names = await exportedNames(file ?? 'pipelines/demo/nodes.ts', code);
    expect(names === null ? null : [...names].sort()).toEqual(want);
  });
});
