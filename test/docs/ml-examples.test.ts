// The examples of docs/ml.md compile: each ```ts block becomes a module of a temporary project that imports kiln-ml
// (linked to this repository, as an installed dependency resolves) and @tensorflow/tfjs, and the TypeScript compiler
// checks them all, so an example that calls a renamed export or passes a wrong option fails here. A slow suite
// (test/slow-suites.ts): the compiler checks kiln's own sources behind kiln-ml too, half a minute on a busy machine.
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { expect, it } from 'vitest';
import { linkKiln, repoRoot, tempDir } from '../gitops/support.ts';

const page = fs.readFileSync(path.join(repoRoot, 'docs/ml.md'), 'utf8');
const examples = [...page.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]);

it('the examples of docs/ml.md type-check against kiln-ml', () => {
  expect(examples.length).toBeGreaterThan(5);
  const dir = tempDir('kiln-ml-examples-');
  linkKiln(dir);
  for (const scope of ['@tensorflow', '@types']) fs.symlinkSync(path.join(repoRoot, 'node_modules', scope), path.join(dir, 'node_modules', scope), 'dir');
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  const files = examples.map((code, i) => {
    const file = path.join(dir, `example-${i + 1}.ts`);
    fs.writeFileSync(file, code);
    return file;
  });
  // The compiler options of this repository: kiln-ml's exports are its TypeScript sources.
  const { config } = ts.readConfigFile(path.join(repoRoot, 'tsconfig.json'), ts.sys.readFile);
  const { options } = ts.convertCompilerOptionsFromJson(config.compilerOptions, dir);
  const program = ts.createProgram(files, options);
  const errors = ts
    .getPreEmitDiagnostics(program)
    .map((d) => `${d.file ? path.basename(d.file.fileName) : ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
  expect(errors).toEqual([]);
});
