// Choosing the TensorFlow.js backend a run computes on: the fastest that loads here, and why the others were skipped.
// Order for `auto`: tfjs-node-gpu (CUDA), WebGPU through Dawn (a real GPU only), tfjs-node, WASM (SIMD), pure JS.
import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import { KilnError, diag } from '../diagnostics/index.ts';
import { unknownValue } from './errors.ts';
import { importPackage } from './package-import.ts';

export const BACKENDS = ['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];
export type BackendRequest = 'auto' | BackendName;

export interface SkippedBackend {
  name: BackendName;
  /** Why it was not used, starting with the package it needs ("webgpu: no GPU adapter ..."). */
  reason: string;
}

export interface BackendSelection {
  name: BackendName;
  /** Backends tried before `name` (for `auto`) and why each was passed over. */
  skipped: SkippedBackend[];
  tf: typeof tf;
  /** The name TensorFlow.js itself uses (`tensorflow` for both tfjs-node packages). */
  tfBackend: string;
  /** What was found: the WASM binary and SIMD use, the GPU adapter, ... (recorded with the run). */
  details: Record<string, string | number | boolean>;
  /** Milliseconds the selection took when it was made (loading modules, compiling WASM, opening the GPU). */
  initMs: number;
}

export interface SelectOptions {
  /** Leave TensorFlow.js's debug checks on (prod mode is enabled otherwise). */
  debug?: boolean;
  /** Folder holding the tfjs-backend-wasm `.wasm` binaries; by default $KILN_WASM_DIR, else the installed package's `dist/`. */
  wasmDir?: string;
  /** Use the SIMD WASM binary: true by default where the engine supports it (see bench/train.ts).
   *  Like wasmDir, it counts only on the first selection that loads the WASM backend. */
  wasmSimd?: boolean;
}

const PACKAGES: Record<BackendName, string> = {
  'tfjs-node-gpu': '@tensorflow/tfjs-node-gpu',
  webgpu: 'webgpu',
  'tfjs-node': '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs',
};

type Loaded = { ok: true; tfBackend: string; details: Record<string, string | number | boolean> } | { ok: false; reason: string };

const require = createRequire(import.meta.url);
const loads = new Map<BackendName, Promise<Loaded>>();
const selections = new Map<BackendRequest, BackendSelection>();
let active: BackendSelection | null = null;
// The Dawn GPU object must outlive the backend that uses it (it owns the native instance).
let dawnGpu: unknown = null;

/** The backend chosen by the last successful selectBackend call, or null before any. */
export function activeBackend(): BackendName | null {
  return active && tf.getBackend() === active.tfBackend ? active.name : null;
}

/** The current selection, or `auto` selected now: for node code that computes but is also run outside kiln. */
export async function ensureBackend(): Promise<BackendSelection> {
  return activeBackend() && active ? active : selectBackend('auto');
}

/**
 * Makes a TensorFlow.js backend current and returns it. `auto` takes the first of BACKENDS that works here;
 * an explicit backend that does not work is a KILN5001 error listing the ones that do. Calling it again is
 * cheap: modules are loaded once, and a request already in effect returns the earlier selection.
 */
export async function selectBackend(requested: BackendRequest = 'auto', options: SelectOptions = {}): Promise<BackendSelection> {
  if (requested !== 'auto' && !BACKENDS.includes(requested)) {
    throw unknownValue('TensorFlow.js backend', String(requested), ['auto', ...BACKENDS]);
  }
  const previous = selections.get(requested);
  if (previous && tf.getBackend() === previous.tfBackend) {
    active = previous;
    return previous;
  }
  const started = performance.now();
  const skipped: SkippedBackend[] = [];
  for (const name of requested === 'auto' ? BACKENDS : [requested]) {
    const loaded = await load(name, options);
    let failure = loaded.ok ? await activate(loaded.tfBackend) : loaded.reason;
    if (failure === null && loaded.ok) {
      if (!options.debug) tf.enableProdMode();
      const selection: BackendSelection = { name, skipped, tf, tfBackend: loaded.tfBackend, details: { ...loaded.details }, initMs: Math.round(performance.now() - started) };
      selections.set(requested, selection);
      active = selection;
      return selection;
    }
    failure ??= 'unknown failure';
    if (requested !== 'auto') {
      const available: string[] = [];
      for (const other of BACKENDS) if (other !== name && (await load(other, options)).ok) available.push(other);
      throw new KilnError(diag('KILN5001', { backend: name, reason: failure, available: available.join(', ') || 'none' }));
    }
    skipped.push({ name, reason: failure });
  }
  // `cpu` ships inside @tensorflow/tfjs, so getting here means TensorFlow.js itself is broken.
  throw new Error(`internal error: no TensorFlow.js backend could be initialised (${skipped.map((s) => s.reason).join('; ')}); this is a bug in kiln, please report it`);
}

/** Switches TensorFlow.js to `tfBackend`; null when it worked, otherwise why not. */
async function activate(tfBackend: string): Promise<string | null> {
  type Listener = (...args: unknown[]) => void;
  const events = ['uncaughtException', 'unhandledRejection'];
  const listeners = (e: string) => process.listeners(e as 'uncaughtException') as Listener[];
  const before = events.map((e) => new Set(listeners(e)));
  try {
    if (tf.getBackend() !== tfBackend && !(await tf.setBackend(tfBackend))) return `${tfBackend} backend failed to initialise`;
    await tf.ready();
    return null;
  } catch (e) {
    return `${tfBackend} backend failed to initialise (${firstLine(e)})`;
  } finally {
    // The Emscripten runtime of the WASM backend adds process handlers that rethrow every uncaught error from
    // inside its minified source (printing a line of several hundred kilobytes); errors are kiln's to report.
    events.forEach((e, i) => {
      for (const listener of listeners(e)) if (!before[i].has(listener)) process.removeListener(e, listener);
    });
  }
}

function load(name: BackendName, options: SelectOptions): Promise<Loaded> {
  let p = loads.get(name);
  if (!p) {
    p = loaders[name](options).catch((e: unknown): Loaded => ({ ok: false, reason: `${PACKAGES[name]}: ${describeLoadFailure(PACKAGES[name], e)}` }));
    loads.set(name, p);
  }
  return p;
}

const loaders: Record<BackendName, (options: SelectOptions) => Promise<Loaded>> = {
  'tfjs-node-gpu': () => loadTensorflowPackage('@tensorflow/tfjs-node-gpu'),
  'tfjs-node': async (options) => {
    // Both packages register the same `tensorflow` backend; the GPU one wins when it loaded.
    const gpu = await load('tfjs-node-gpu', options);
    if (gpu.ok) return { ok: false, reason: '@tensorflow/tfjs-node: not loaded because @tensorflow/tfjs-node-gpu already provides the tensorflow backend' };
    return loadTensorflowPackage('@tensorflow/tfjs-node');
  },
  webgpu: loadWebGpu,
  wasm: loadWasm,
  cpu: async () => ({ ok: true, tfBackend: 'cpu', details: {} }),
};

async function loadTensorflowPackage(pkg: string): Promise<Loaded> {
  if (!isInstalled(pkg)) return { ok: false, reason: `${pkg}: not installed (an optional dependency; npm skips it where its native library cannot be installed)` };
  await importPackage(pkg);
  if (!tf.findBackendFactory('tensorflow')) return { ok: false, reason: `${pkg}: loaded but registered no 'tensorflow' backend with this copy of @tensorflow/tfjs (two versions installed?)` };
  return { ok: true, tfBackend: 'tensorflow', details: { package: pkg } };
}

interface DawnAdapterInfo {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  adapterType?: string;
  isFallbackAdapter?: boolean;
}
interface DawnAdapter {
  info?: DawnAdapterInfo;
  isFallbackAdapter?: boolean;
}
interface DawnGpu {
  requestAdapter(options?: { powerPreference?: 'high-performance' | 'low-power' }): Promise<DawnAdapter | null>;
}
interface DawnModule {
  create(flags: string[]): DawnGpu;
  globals: Record<string, unknown>;
}

const SOFTWARE_ADAPTERS = /swiftshader|llvmpipe|lavapipe|softpipe|warp|microsoft basic render/i;

async function loadWebGpu(): Promise<Loaded> {
  if (!isInstalled('webgpu')) return { ok: false, reason: 'webgpu: not installed' };
  // Dawn prints a raw warning (with its CI's build path) to stderr when it cannot load Vulkan: without a loader there
  // is no GPU to find, so say it in one line instead of loading Dawn.
  if (!vulkanLoaderPresent()) return { ok: false, reason: 'webgpu: no Vulkan loader (libvulkan.so.1): install libvulkan1 and a GPU driver' };
  const dawn = (await importPackage('webgpu')) as DawnModule;
  const gpu = dawn.create(process.env.KILN_DAWN_FLAGS ? process.env.KILN_DAWN_FLAGS.split(' ') : []);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return { ok: false, reason: `webgpu: no GPU adapter${vulkanHint()}` };
  const info = adapter.info ?? {};
  const label = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') || 'unknown adapter';
  if (adapter.isFallbackAdapter || info.isFallbackAdapter || info.adapterType === 'cpu' || SOFTWARE_ADAPTERS.test(label)) {
    return { ok: false, reason: `webgpu: the only adapter is a software renderer (${label}), not a GPU` };
  }
  // tfjs-backend-webgpu registers itself only if navigator.gpu exists when it is imported.
  Object.assign(globalThis, dawn.globals);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu, userAgent: 'node' }, configurable: true, writable: true });
  dawnGpu = gpu;
  await importPackage('@tensorflow/tfjs-backend-webgpu');
  if (!tf.findBackendFactory('webgpu')) return { ok: false, reason: 'webgpu: @tensorflow/tfjs-backend-webgpu did not register (navigator.gpu missing?)' };
  return { ok: true, tfBackend: 'webgpu', details: { adapter: label, adapterType: info.adapterType ?? 'unknown' } };
}

/** Dawn needs the Vulkan loader on Linux; say so when it is absent, since that is the usual cause. */
function vulkanHint(): string {
  if (process.platform !== 'linux') return '';
  return vulkanLoaderPresent() ? ' (the Vulkan loader is present; is a GPU driver with a Vulkan ICD installed?)' : ' (no Vulkan loader libvulkan.so.1: install libvulkan1 and a GPU driver)';
}

/**
 * Whether the dynamic loader can find libvulkan.so.1, looked up where it looks: LD_LIBRARY_PATH, its cache
 * (/etc/ld.so.cache names every library ldconfig indexed) and the default folders. Only Linux is judged.
 */
function vulkanLoaderPresent(): boolean {
  if (process.platform !== 'linux') return true;
  const dirs = [...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib/x86_64-linux-gnu', '/lib64', '/lib', '/usr/local/lib'];
  if (dirs.some((d) => existsSync(join(d, 'libvulkan.so.1')))) return true;
  try {
    return readFileSync('/etc/ld.so.cache').includes('libvulkan.so.1');
  } catch {
    return false;
  }
}

async function loadWasm(options: SelectOptions): Promise<Loaded> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  // Point at the binaries explicitly: the default guess depends on how kiln was bundled, and no network is used.
  let dir = options.wasmDir ?? process.env.KILN_WASM_DIR;
  if (!dir) {
    if (!isInstalled('@tensorflow/tfjs-backend-wasm')) return { ok: false, reason: '@tensorflow/tfjs-backend-wasm: package folder not found (in a bundle, set KILN_WASM_DIR to the folder of its .wasm files)' };
    dir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  }
  const simdSupported = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) as boolean;
  const simd = simdSupported && options.wasmSimd !== false;
  if (!simd) tf.env().set('WASM_HAS_SIMD_SUPPORT', false);
  const binary = simd ? 'tfjs-backend-wasm-simd.wasm' : 'tfjs-backend-wasm.wasm';
  if (!existsSync(join(dir, binary))) return { ok: false, reason: `@tensorflow/tfjs-backend-wasm: ${binary} not found in ${dir}` };
  wasm.setWasmPaths(dir.endsWith(sep) ? dir : dir + sep);
  // TensorFlow.js turns WASM threads off under Node (tfjs issue 3830), so XNNPACK runs on one thread.
  return { ok: true, tfBackend: 'wasm', details: { simd, threads: false, binary: join(dir, binary) } };
}

function isInstalled(pkg: string): boolean {
  try {
    require.resolve(`${pkg}/package.json`);
    return true;
  } catch {
    return false;
  }
}

/** A short human reason for a failed import of `pkg`: not installed, native binding missing, or the error itself. */
export function describeLoadFailure(pkg: string, error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const text = firstLine(error);
  if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && text.includes(`'${pkg}'`)) return `not installed (${text})`;
  if (code === 'ERR_DLOPEN_FAILED' || /\.node\b|native addon|binding|dlopen|lib\w+\.so/i.test(text)) return `native binding not installed (${text})`;
  return `failed to load (${text})`;
}

function firstLine(e: unknown): string {
  const text = e instanceof Error ? e.message : typeof e === 'object' && e !== null && 'message' in e ? String((e as { message: unknown }).message) : String(e);
  const line = text.split('\n').find((l) => l.trim() !== '') ?? text;
  return line.length > 200 ? line.slice(0, 197) + '...' : line.trim();
}
