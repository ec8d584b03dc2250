// The artifact's code: the generated inference module (its node code included) and the artifact runtime, bundled
// into one ES module by esbuild. TensorFlow.js stays external: the host provides it and its backends.
import path from 'node:path';
import { build, type BuildOptions } from 'esbuild';
import { besideModule, kilnSelf } from '../runtime/kiln-self.ts';

// The runtime as the running kiln has it (built JavaScript, or the sources under tests).
const runtimeFile = besideModule(import.meta.url, 'runtime');

export const EXTERNAL = ['@tensorflow/*', 'webgpu'];

/** How inference code is bundled: shared with the hermetic scan, so that it sees the code the artifact will hold. */
export const INFERENCE_BUNDLE = {
  bundle: true,
  write: false,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: EXTERNAL,
  logLevel: 'silent',
} as const satisfies BuildOptions;

export async function bundleInference(projectRoot: string, modelModule: string): Promise<string> {
  const result = await build({
    stdin: {
      contents: `export { model, nodes } from ${JSON.stringify(modelModule)};\nexport { createInference } from ${JSON.stringify(runtimeFile)};\n`,
      resolveDir: projectRoot,
      sourcefile: 'artifact-entry.js',
      loader: 'js',
    },
    // Paths esbuild writes into the bundle (its `// file` comments) relative to the project, not to the working
    // directory: the same run gives the same code from anywhere, and the parity replay names user files by them.
    absWorkingDir: path.resolve(projectRoot),
    ...INFERENCE_BUNDLE,
    // Packages written as CommonJS call require(); give the ES module one.
    banner: { js: "import { createRequire as __kilnCreateRequire } from 'node:module';\nconst require = __kilnCreateRequire(import.meta.url);" },
    plugins: [kilnSelf],
    legalComments: 'none',
    charset: 'utf8',
  });
  return result.outputFiles[0].text;
}
