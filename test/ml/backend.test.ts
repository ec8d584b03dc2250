// Backend selection: the fallback order, the reasons given for skipped backends, and the diagnostics for
// explicit requests. This machine has no GPU and no tfjs-node binary, so `auto` lands on WASM here; set
// KILN_TEST_GPU=1 on a machine where another backend is expected to load.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { BACKENDS, activeBackend, describeLoadFailure, selectBackend } from '../../src/ml/backend.ts';
import { isKilnError } from '../../src/diagnostics/index.ts';

const noGpuMachine = process.env.KILN_TEST_GPU !== '1';

async function diagnosticOf(p: Promise<unknown>) {
  try {
    await p;
  } catch (e) {
    if (isKilnError(e)) return e.diagnostics[0];
    throw e;
  }
  throw new Error('expected a KilnError');
}

describe('selectBackend', () => {
  it.runIf(noGpuMachine)('auto falls back to wasm and says why each faster backend was skipped', async () => {
    const s = await selectBackend('auto');
    expect(s.name).toBe('wasm');
    expect(s.tfBackend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(activeBackend()).toBe('wasm');
    expect(s.skipped.map((k) => k.name)).toEqual(['tfjs-node-gpu', 'webgpu', 'tfjs-node']);
    const reason = Object.fromEntries(s.skipped.map((k) => [k.name, k.reason]));
    expect(reason['tfjs-node-gpu']).toMatch(/^@tensorflow\/tfjs-node-gpu: (not installed|native binding not installed)/);
    expect(reason['tfjs-node']).toMatch(/^@tensorflow\/tfjs-node: (not installed|native binding not installed)/);
    expect(reason.webgpu).toMatch(/^webgpu: (no Vulkan loader|no GPU adapter|the only adapter is a software renderer)/);
  });

  it.runIf(noGpuMachine)('auto says webgpu was skipped in its reason, without the raw Vulkan warning of the WebGPU binding on stderr', () => {
    // Dawn writes that warning from native code, so it shows only on a real process's stderr.
    const backendModule = fileURLToPath(new URL('../../src/ml/backend.ts', import.meta.url));
    const script = `const { selectBackend } = await import(${JSON.stringify(backendModule)}); const s = await selectBackend('auto'); console.log(JSON.stringify(s.skipped));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/Vulkan|BackendVk|third_party\/dawn/);
    const webgpu = (JSON.parse(r.stdout) as Array<{ name: string; reason: string }>).find((k) => k.name === 'webgpu');
    expect(webgpu?.reason).toMatch(/^webgpu: (no Vulkan loader \(libvulkan\.so\.1\)|no GPU adapter|the only adapter is a software renderer)/);
  });

  it('loads WASM from node_modules with the SIMD binary, single-threaded, and enables prod mode', async () => {
    const s = await selectBackend('wasm');
    expect(s.details.simd).toBe(true);
    expect(s.details.threads).toBe(false);
    expect(String(s.details.binary)).toMatch(/node_modules\/@tensorflow\/tfjs-backend-wasm\/dist\/tfjs-backend-wasm-simd\.wasm$/);
    expect(existsSync(String(s.details.binary))).toBe(true);
    expect(tf.env().getBool('PROD')).toBe(true);
    // It computes: a small matrix product on the WASM backend.
    const product = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5], [6]]));
    expect(Array.from(await product.data())).toEqual([17, 39]);
  });

  it('is cheap and returns the same selection when called again', async () => {
    const first = await selectBackend('auto');
    const t0 = performance.now();
    const second = await selectBackend('auto');
    expect(performance.now() - t0).toBeLessThan(20);
    expect(second).toBe(first);
  });

  it('switches between explicit backends and back to auto', async () => {
    const cpu = await selectBackend('cpu');
    expect(cpu.name).toBe('cpu');
    expect(cpu.skipped).toEqual([]);
    expect(tf.getBackend()).toBe('cpu');
    expect(activeBackend()).toBe('cpu');
    const auto = await selectBackend('auto');
    expect(tf.getBackend()).toBe(auto.tfBackend);
    expect(activeBackend()).toBe(auto.name);
  });

  it.runIf(noGpuMachine)('gives KILN5001 for an explicitly requested backend that is not available, listing those that are', async () => {
    await selectBackend('wasm');
    for (const name of ['tfjs-node', 'tfjs-node-gpu', 'webgpu'] as const) {
      const d = await diagnosticOf(selectBackend(name));
      expect(d.code).toBe('KILN5001');
      expect(d.message).toContain(`'${name}' was requested but is not available`);
      expect(d.message).toMatch(/not installed|native binding|no Vulkan loader|no GPU adapter|software renderer/);
      expect(d.hint).toContain('wasm, cpu');
    }
    // A failed request leaves the current backend in place.
    expect(tf.getBackend()).toBe('wasm');
  });

  it('gives KILN5002 with a suggestion for an unknown backend name', async () => {
    const d = await diagnosticOf(selectBackend('wsam' as 'wasm'));
    expect(d.code).toBe('KILN5002');
    expect(d.message).toBe("unknown TensorFlow.js backend 'wsam'. did you mean 'wasm'?");
    expect(d.hint).toContain(['auto', ...BACKENDS].join(', '));
  });
});

describe('describeLoadFailure', () => {
  const pkg = '@tensorflow/tfjs-node';
  const cases: Array<[string, unknown, RegExp]> = [
    ['package absent', Object.assign(new Error(`Cannot find package '${pkg}' imported from /x.ts`), { code: 'ERR_MODULE_NOT_FOUND' }), /^not installed \(Cannot find package/],
    ['native addon missing', new Error('The Node.js native addon module (tfjs_binding.node) can not be found at path: /n/lib/napi-v8/tfjs_binding.node.\nPlease run command ...'), /^native binding not installed \(The Node\.js native addon module/],
    ['shared library missing', Object.assign(new Error('libtensorflow.so.2: cannot open shared object file'), { code: 'ERR_DLOPEN_FAILED' }), /^native binding not installed \(libtensorflow/],
    ['a dependency of the package missing', Object.assign(new Error("Cannot find package 'other' imported from /n/index.js"), { code: 'ERR_MODULE_NOT_FOUND' }), /^failed to load \(Cannot find package 'other'/],
    ['anything else', new TypeError('boom'), /^failed to load \(boom\)$/],
  ];
  it.each(cases)('%s', (_name, error, want) => {
    expect(describeLoadFailure(pkg, error)).toMatch(want);
  });
});
