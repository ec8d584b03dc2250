// A built artifact runs where nothing is installed: copied to a folder with no node_modules above it, `kiln predict`,
// `kiln serve` and loadArtifact give training's outputs bit for bit, on the TensorFlow.js (and WASM binaries) it
// carries; a tampered binary is refused; what it cannot carry is a requirement checked before its code is loaded.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadArtifact } from '../../src/index.ts';
import { codesOf } from './support.ts';
import { runCli, servingPort } from '../helpers/cli.ts';
import { repoRoot, tempDir } from '../helpers/project.ts';

let artifact: string;
let parity: Array<{ input: unknown; output: unknown }>;
/** The outputs as parity.jsonl holds them: JSON text, so equal text is equal bits. */
let expectedLines: string[];

/** A copy of the artifact in a fresh temporary folder, with no node_modules in it or above it. */
function copyOutside(): string {
  const dir = path.join(tempDir('kiln-away-'), 'classifier');
  fs.cpSync(artifact, dir, { recursive: true });
  for (let d = dir; ; d = path.dirname(d)) {
    expect(fs.existsSync(path.join(d, 'node_modules')), `${d}/node_modules would provide packages to the copy`).toBe(false);
    if (path.dirname(d) === d) break;
  }
  return dir;
}

function rewriteManifest(dir: string, change: (m: Record<string, unknown>) => void): void {
  const file = path.join(dir, 'manifest.json');
  const m = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  change(m);
  fs.writeFileSync(file, JSON.stringify(m, null, 2) + '\n');
}

beforeAll(() => {
  const root = tempDir('kiln-classifier-');
  fs.cpSync(path.join(repoRoot, 'test', 'fixtures', 'projects', 'classifier'), root, { recursive: true });
  // Training needs kiln and TensorFlow.js installed, as in a user's project; the copied artifact needs neither.
  fs.mkdirSync(path.join(root, 'node_modules', '@tensorflow'), { recursive: true });
  fs.symlinkSync(repoRoot, path.join(root, 'node_modules', 'kiln-ml'), 'dir');
  for (const p of fs.readdirSync(path.join(repoRoot, 'node_modules', '@tensorflow'))) fs.symlinkSync(path.join(repoRoot, 'node_modules', '@tensorflow', p), path.join(root, 'node_modules', '@tensorflow', p), 'dir');
  const r = runCli(['run'], { cwd: root, timeoutMs: 180_000 });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toMatch(/parity: 10 record\(s\) identical to training on wasm/);
  artifact = path.resolve(root, /artifact classifier from run \w+: (\S+)/.exec(r.stderr)![1]);
  const text = fs.readFileSync(path.join(artifact, 'parity.jsonl'), 'utf8').trim().split('\n');
  parity = text.map((l) => JSON.parse(l) as { input: unknown; output: unknown });
  expectedLines = parity.map((p) => JSON.stringify(p.output));
}, 240_000);

describe('a self-contained artifact', () => {
  it('carries TensorFlow.js and the WASM binaries, hashed in its manifest', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(artifact, 'manifest.json'), 'utf8'));
    expect(manifest.format).toBe(2);
    expect(manifest.runtime).toEqual({ tensorflow: 'carried', requires: {} });
    expect(Object.keys(manifest.files).sort()).toEqual(['model.mjs', 'parity.jsonl', 'state/model/model.json', 'state/model/weights.bin', 'wasm/tfjs-backend-wasm-simd.wasm', 'wasm/tfjs-backend-wasm.wasm']);
    // No bare import left for the host to resolve: only Node's own modules.
    const code = fs.readFileSync(path.join(artifact, 'model.mjs'), 'utf8');
    expect(code).not.toMatch(/from ["']@tensorflow\//);
    // Nor any import(): a loader hook (tsx) rewrites a module that has one, source map and all, on every load.
    // (A method named import, `import(keys, values) {`, is not one.)
    expect(code).not.toMatch(/(?<![.\w$])import\s*\((?![^)]*\)\s*\{)/);
  });

  it('kiln predict on a copy outside any project gives the parity outputs, bit for bit', () => {
    const dir = copyOutside();
    const input = path.join(path.dirname(dir), 'input.jsonl');
    fs.writeFileSync(input, parity.map((p) => JSON.stringify(p.input)).join('\n') + '\n');
    const r = runCli(['predict', dir, '--input', input, '--trust-manifest'], { cwd: path.dirname(dir), timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(expectedLines);
    expect(r.stderr).not.toMatch(/KILN6010/);
  });

  it('kiln serve of a copy answers /invocations with the parity outputs', async () => {
    const dir = copyOutside();
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'kiln.js'), 'serve', dir, '--trust-manifest', '--port', '0'], { cwd: path.dirname(dir), env: { ...process.env, NO_COLOR: '1' } });
    try {
      const port = await servingPort(child);
      const res = await fetch(`http://127.0.0.1:${port}/invocations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: parity.map((p) => p.input) }) });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { predictions: unknown[] };
      expect(body.predictions.map((p) => JSON.stringify(p))).toEqual(expectedLines);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('loadArtifact of two copies, in a process whose own TensorFlow.js computes on another backend, gives the parity outputs', () => {
    const script = path.join(repoRoot, 'test', 'serve', 'fixtures', 'load-copies.ts');
    const r = spawnSync(process.execPath, ['--import', 'tsx', script, copyOutside(), copyOutside()], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout.trim().split('\n').pop()!) as { backends: string[]; outputs: string[][]; hostBackend: string; hostTensor: number[] };
    expect(got.backends).toEqual(['wasm', 'wasm']);
    expect(got.outputs).toEqual([expectedLines, expectedLines]);
    // Each artifact computes on an engine of its own: the host's backend and tensors are untouched.
    expect(got.hostBackend).toBe('cpu');
    expect(got.hostTensor).toEqual([1, 2, 3]);
  });

  it('predicts on the backend parity was verified on when asked for one it does not carry (KILN6133)', () => {
    const dir = copyOutside();
    const input = path.join(path.dirname(dir), 'input.jsonl');
    fs.writeFileSync(input, parity.map((p) => JSON.stringify(p.input)).join('\n') + '\n');
    const r = runCli(['predict', dir, '--input', input, '--trust-manifest', '--backend', 'tfjs-node'], { cwd: path.dirname(dir), timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(expectedLines);
    expect(/warning (KILN\d+): backend tfjs-node/.exec(r.stderr)?.[1]).toBe('KILN6133');
    expect(r.stderr).toMatch(/warning KILN6133: backend tfjs-node was asked for, but artifact .* carries only wasm and cpu; predicting on wasm/);
  });

  it('refuses a copy whose WASM binary was changed', async () => {
    const dir = copyOutside();
    const binary = path.join(dir, 'wasm', 'tfjs-backend-wasm-simd.wasm');
    const bytes = fs.readFileSync(binary);
    bytes[bytes.length - 1] ^= 1;
    fs.writeFileSync(binary, bytes);
    const codes = await codesOf(loadArtifact(dir, { trust: 'manifest' }));
    expect(codes.map((c) => c.code)).toEqual(['KILN6002']);
    expect(codes[0].message).toMatch(/wasm\/tfjs-backend-wasm-simd\.wasm does not match its sha256/);
  });

  it('names the packages an artifact verified on a backend it cannot carry needs, before loading its code', async () => {
    const dir = copyOutside();
    rewriteManifest(dir, (m) => {
      m.backend = { name: 'tfjs-node', tfjs: '4.22.0' };
      m.runtime = { tensorflow: 'host', requires: { '@tensorflow/tfjs': '4.22.0', '@tensorflow/tfjs-node': '4.22.0' } };
    });
    const codes = await codesOf(loadArtifact(dir, { trust: 'manifest' }));
    expect(codes.map((c) => c.code)).toEqual(['KILN6131', 'KILN6131']);
    expect(codes[0].code).toBe('KILN6131');
    expect(codes[1].message).toBe(`artifact ${dir} needs @tensorflow/tfjs-node 4.22.0 installed where it is loaded, but it is not installed there (no node_modules above the artifact provides it)`);
    const r = runCli(['predict', dir, '--input', path.join(dir, 'parity.jsonl'), '--trust-manifest'], { cwd: path.dirname(dir) });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/KILN6131.*\n.*npm install --save-exact @tensorflow\/tfjs@4\.22\.0 @tensorflow\/tfjs-node@4\.22\.0/);
    // serve --workers checks it in its primary, before forking any worker.
    const serve = runCli(['serve', dir, '--trust-manifest', '--workers', '2', '--port', '0'], { cwd: path.dirname(dir) });
    expect(serve.code, serve.stderr).toBe(1);
    expect(serve.stderr).toMatch(/error KILN6131: artifact .* needs @tensorflow\/tfjs-node 4\.22\.0/);
    expect(serve.stderr).not.toMatch(/worker/);
  });

  it('says how to rebuild an artifact of manifest format 1, which left TensorFlow.js to the host', async () => {
    const dir = copyOutside();
    rewriteManifest(dir, (m) => {
      m.format = 1;
      delete m.runtime;
    });
    const codes = await codesOf(loadArtifact(dir, { trust: 'manifest' }));
    expect(codes[0].code).toBe('KILN6132');
    expect(codes).toHaveLength(1);
    expect(codes[0].message).toMatch(/does not carry TensorFlow\.js \(manifest format 1/);
  });
});
