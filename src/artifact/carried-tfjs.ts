// TensorFlow.js inside the artifact: which packages are bundled into model.mjs, which backend binaries travel beside
// it, and the one patch that gives every loaded artifact its own TensorFlow.js instead of the host's.
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Plugin } from 'esbuild';

/** Backends whose code an artifact carries: pure JavaScript, and WASM with its binaries in WASM_DIR. */
export const CARRIED_BACKENDS = ['wasm', 'cpu'] as const;

/**
 * Never bundled: native bindings (tfjs-node, tfjs-node-gpu) and the GPU backend through Dawn, which need files and
 * drivers of the machine. An artifact verified on one of them names its packages as runtime requirements instead.
 */
export const NOT_CARRIED = [
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-node-gpu',
  '@tensorflow/tfjs-backend-webgpu',
  'webgpu',
  // tfjs-core's fallback for a Node without a global fetch (before 18; kiln needs 20), with its URL and Unicode
  // tables: about 400 kB that inference never runs.
  'node-fetch',
];

/** The folder, inside the artifact, of the WASM backend's binaries (verified with every other file). */
export const WASM_DIR = 'wasm';

/** Both binaries: the SIMD one where the engine supports SIMD (what training used here), the other where it does not. */
export const WASM_BINARIES = ['tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm.wasm'];

const require = createRequire(import.meta.url);

export function carriesBackend(backend: string | null): boolean {
  return backend === null || (CARRIED_BACKENDS as readonly string[]).includes(backend);
}

/** Copies the WASM binaries of the installed @tensorflow/tfjs-backend-wasm (the version bundled) into `artifactDir`. */
export async function copyWasmBinaries(artifactDir: string): Promise<void> {
  const from = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  await fs.mkdir(path.join(artifactDir, WASM_DIR), { recursive: true });
  for (const b of WASM_BINARIES) await fs.copyFile(path.join(from, b), path.join(artifactDir, WASM_DIR, b));
}

/**
 * tfjs-core keeps its engine, flags and kernel registry on the global object, so that copies of it in one process
 * share them. A second copy bundled in an artifact would then compute on the host's engine, with whichever kernels and
 * backend the host registered first. The bundled copy keeps them on an object of its own instead; other globals
 * (fetch, process, ...) are still read through its prototype.
 */
const OWN_GLOBALS = "let globalNameSpace = Object.assign(Object.create(globalThis), { _tfengine: null, _tfGlobals: null });";

/** The WebGL backend registers itself only in a browser; in Node it is dead weight (about a megabyte). */
const NO_WEBGL = "export const version_webgl = 'not carried: WebGL needs a browser';\n";

/**
 * kiln's importer of the native and GPU backends' packages (src/ml/package-import.ts), in an artifact: they are not
 * carried, so it says so. This also leaves no import() in the bundle, which a loader hook such as tsx would otherwise
 * rewrite, source map and all, on every load (seconds for a bundle of this size).
 */
const NO_NATIVE_IMPORT = "export async function importPackage(specifier) { throw Object.assign(new Error(`Cannot find package '${specifier}': an artifact does not carry it`), { code: 'ERR_MODULE_NOT_FOUND' }); }\n";

export const carriedTfjs: Plugin = {
  name: 'kiln-carried-tfjs',
  setup(b) {
    b.onLoad({ filter: /[\\/]@tensorflow[\\/]tfjs-core[\\/]dist[\\/]global_util\.js$/ }, async (args) => {
      const text = await fs.readFile(args.path, 'utf8');
      const patched = text.replace(/^let globalNameSpace;$/m, OWN_GLOBALS);
      // A tfjs-core that keeps its globals some other way would silently share the host's engine again.
      if (patched === text) throw new Error(`cannot give the bundled TensorFlow.js its own globals: ${args.path} has changed (this is a bug in kiln, please report it)`);
      return { contents: patched, loader: 'js' };
    });
    b.onResolve({ filter: /^@tensorflow\/tfjs-backend-webgl$/ }, () => ({ path: 'tfjs-backend-webgl', namespace: 'kiln-not-carried' }));
    // .ts under the sources, .js in the built kiln (lib/), whichever this kiln runs from.
    b.onResolve({ filter: /^\.\/package-import\.(ts|js)$/ }, (args) => (/^backend\.(ts|js)$/.test(path.basename(args.importer)) ? { path: 'package-import', namespace: 'kiln-not-carried' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'kiln-not-carried' }, (args) => ({ contents: args.path === 'package-import' ? NO_NATIVE_IMPORT : NO_WEBGL, loader: 'js' }));
  },
};
