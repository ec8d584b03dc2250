// The backend line of a run: short by default (it was about 330 characters of package errors), reasons on request.
import { describe, expect, it } from 'vitest';
import { backendLine } from '../../src/ml/backend-line.ts';

const skipped = [
  { name: 'tfjs-node-gpu' as const, reason: '@tensorflow/tfjs-node-gpu: not installed (npm install @tensorflow/tfjs-node-gpu; it needs CUDA and cuDNN on Linux x64)' },
  { name: 'webgpu' as const, reason: 'webgpu: no WebGPU in this Node.js (navigator.gpu is undefined; Node has no WebGPU without a flag or a polyfill package)' },
  { name: 'tfjs-node' as const, reason: '@tensorflow/tfjs-node: not installed (npm install @tensorflow/tfjs-node)' },
];

describe('backendLine', () => {
  it('names the skipped backends on one short line', () => {
    const line = backendLine({ name: 'wasm', skipped }, false);
    expect(line).toBe('backend: wasm (skipped tfjs-node-gpu, webgpu, tfjs-node; KILN_DEBUG=1 says why)\n');
    expect(line.length).toBeLessThan(100);
  });

  it('gives each reason on its own line when asked, and nothing more when none was skipped', () => {
    expect(backendLine({ name: 'wasm', skipped }, true).split('\n').slice(0, 2)).toEqual(['backend: wasm, after skipping:', `  tfjs-node-gpu: ${skipped[0].reason}`]);
    expect(backendLine({ name: 'cpu', skipped: [] }, false)).toBe('backend: cpu\n');
  });
});
