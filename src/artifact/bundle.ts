// The artifact's code: the generated inference module (its node code included) and the artifact runtime, bundled
// into one ES module by esbuild, with TensorFlow.js (core, layers, the CPU and WASM backends) inside it, so that a
// copy of the artifact runs where nothing is installed (see carried-tfjs.ts). An artifact verified on a backend it
// cannot carry leaves TensorFlow.js to the host and names it as a runtime requirement (runtime-requirements.ts).
import path from 'node:path';
import { build, type BuildOptions } from 'esbuild';
import { besideModule, kilnCodeDir, kilnModuleExtension, kilnSelf } from '../runtime/kiln-self.ts';
import { carriedTfjs, carriesBackend, NOT_CARRIED } from './carried-tfjs.ts';

// The runtime as the running kiln has it (built JavaScript, or the sources under tests).
const runtimeFile = besideModule(import.meta.url, 'runtime');
const backendFile = path.join(kilnCodeDir, 'ml', `backend${kilnModuleExtension}`);

export const EXTERNAL = ['@tensorflow/*', 'webgpu'];

/**
 * How inference code is bundled; the hermetic scan uses it as it is. The scan reports only the project's own code,
 * never a package's, so it leaves TensorFlow.js external: the project code it sees is the same, and it does not bundle
 * all of TensorFlow.js once per node.
 */
export const INFERENCE_BUNDLE = {
  bundle: true,
  write: false,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: EXTERNAL,
  logLevel: 'silent',
} as const satisfies BuildOptions;

/** Packages written as CommonJS call require() and read __dirname (the WASM backend's Emscripten loader does); give the ES module both. */
const BANNER = [
  "import { createRequire as __kilnCreateRequire } from 'node:module';",
  "import { fileURLToPath as __kilnFileURLToPath } from 'node:url';",
  'const require = __kilnCreateRequire(import.meta.url);',
  'const __filename = __kilnFileURLToPath(import.meta.url);',
  "const __dirname = __filename.slice(0, Math.max(__filename.lastIndexOf('/'), __filename.lastIndexOf('\\\\')));",
].join('\n');

/** `backend`: the one the run trained on (null when it set none up); it decides whether TensorFlow.js is carried. */
export async function bundleInference(projectRoot: string, modelModule: string, backend: string | null): Promise<string> {
  const carried = carriesBackend(backend);
  // The artifact selects its backend on its own TensorFlow.js; loadArtifact calls this export (see load.ts).
  const select = carried && backend !== null ? `export { selectBackend } from ${JSON.stringify(backendFile)};\n` : '';
  const result = await build({
    stdin: {
      contents: `export { model, nodes } from ${JSON.stringify(modelModule)};\nexport { createInference } from ${JSON.stringify(runtimeFile)};\n${select}`,
      resolveDir: projectRoot,
      sourcefile: 'artifact-entry.js',
      loader: 'js',
    },
    // Paths esbuild writes into the bundle (its `// file` comments) relative to the project, not to the working
    // directory: the same run gives the same code from anywhere, and the parity replay names user files by them.
    absWorkingDir: path.resolve(projectRoot),
    ...INFERENCE_BUNDLE,
    ...(carried
      ? {
          external: NOT_CARRIED,
          // The ES builds of TensorFlow.js, which tree-shake; `main` would be its CommonJS bundles, whole.
          mainFields: ['module', 'main'],
        }
      : {}),
    banner: { js: BANNER },
    plugins: carried ? [kilnSelf, carriedTfjs] : [kilnSelf],
    legalComments: 'none',
    charset: 'utf8',
  });
  return result.outputFiles[0].text;
}
