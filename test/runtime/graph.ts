// Hand-built pipelines for the runner tests: NodeIR and the compiled table the runner calls, without YAML or codegen.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import type { CompiledNode, CompiledPipelineModule } from '../../src/runtime/compiled.ts';
import { createDataset, type Dataset, type DatasetEnv, type DatasetFactory } from '../../src/runtime/datasets/index.ts';
import type { RunInfo } from '../../src/runtime/hooks.ts';
import { runNodes, type RunOptions, type RunResult } from '../../src/runtime/runner.ts';
import type { DatasetIR, JsonValue, NodeIR, ProjectIR } from '../../src/ir/types.ts';

const made: string[] = [];
afterEach(() => {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

export function tempDir(prefix = 'kiln-runtime-'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
}

type Fn = (...args: unknown[]) => unknown;

/** A node with its function: `inputs` and `outputs` are dataset names (list form), `params:x` for parameters. */
export interface TestNode {
  ir: NodeIR;
  compiled: CompiledNode;
}

/**
 * `node('n', ['a', 'params:k'], ['b'], (a, k) => …)`: the function gets its inputs positionally and returns the value
 * of its single output, or an array of values for several outputs (Kedro's list form).
 */
export function node(name: string, inputs: string[], outputs: string[], fn: Fn = (...a) => a[0], module = 'nodes.ts'): TestNode {
  const ir: NodeIR = {
    name,
    func: { module, export: name },
    inputForm: inputs.length === 0 ? 'none' : 'list',
    inputs: inputs.map((dataset, index) => ({ key: null, index, dataset })),
    outputForm: outputs.length === 0 ? 'none' : outputs.length === 1 ? 'single' : 'list',
    outputs: outputs.map((dataset, index) => ({ key: null, index, dataset })),
    tags: [],
    namespace: null,
    declaredIn: 'pipelines/test/pipeline.yaml',
    inferenceAllow: [],
  };
  const compiled: CompiledNode = {
    inputs,
    outputs,
    async run(d) {
      const r = await fn(...inputs.map((i) => d[i]));
      if (outputs.length === 0) return {};
      if (outputs.length === 1) return { [outputs[0]]: r };
      const list = r as unknown[];
      return Object.fromEntries(outputs.map((o, i) => [o, list[i]]));
    },
  };
  return { ir, compiled };
}

export function catalogEntry(name: string, type: DatasetIR['type'] = 'json', extra: Partial<DatasetIR> = {}): DatasetIR {
  return { name, type, declared: true, versioned: false, options: {}, ...(type === 'memory' ? {} : { path: `data/${name}.json` }), ...extra };
}

export interface TestPipeline {
  ir: ProjectIR;
  module: CompiledPipelineModule;
  nodes: NodeIR[];
}

/** A project of one pipeline `test` with these nodes (in the given order, which must be topological) and catalog. */
export function pipeline(nodes: TestNode[], catalog: DatasetIR[] = [], opts: { root?: string; params?: Record<string, JsonValue> } = {}): TestPipeline {
  const root = opts.root ?? '/nonexistent-kiln-test-root';
  const irNodes = nodes.map((n) => n.ir);
  const ir: ProjectIR = {
    settings: { name: 'test', root, pipelinesDir: 'pipelines', generatedDir: 'generated', storeDir: '.kiln', mainBranch: 'main', backend: 'cpu', allowedPaths: [], hooks: [], publish: { target: null } },
    datasets: Object.fromEntries(catalog.map((e) => [e.name, e])),
    parameters: { values: opts.params ?? {}, locations: {} },
    pipelines: { test: { name: 'test', file: 'pipelines/test/pipeline.yaml', description: '', nodes: irNodes, model: null } },
  };
  const module: CompiledPipelineModule = { pipeline: 'test', order: irNodes.map((n) => n.name), nodes: Object.fromEntries(nodes.map((n) => [n.ir.name, n.compiled])) };
  return { ir, module, nodes: irNodes };
}

export function datasetEnv(root: string): DatasetEnv {
  return { root, allowedPaths: [], saveVersion: '2024-01-01T00.00.00.000Z', recordMetrics() {} };
}

export function runInfo(p: TestPipeline): RunInfo {
  return { runId: 'test-run', pipeline: 'test', projectRoot: p.ir.settings.root, nodes: p.nodes.map((n) => n.name), params: {}, command: ['kiln', 'run'], backend: null };
}

/** runNodes on a test pipeline, with defaults for everything the test does not set. */
export function run(p: TestPipeline, over: Partial<RunOptions> = {}): Promise<RunResult> {
  return runNodes({ ir: p.ir, module: p.module, nodes: p.nodes, params: p.ir.parameters.values, datasetEnv: datasetEnv(p.ir.settings.root), run: runInfo(p), ...over });
}

/** Kedro's LoggingDataset: an in-memory dataset that logs loads and releases, optionally holding a value from the start. */
export class LoggingDataset implements Dataset<unknown> {
  private has: boolean;
  constructor(
    private readonly log: Array<[string, string]>,
    private readonly name: string,
    private value?: unknown,
  ) {
    this.has = value !== undefined;
  }
  async load() {
    this.log.push(['load', this.name]);
    return this.value;
  }
  async save(v: unknown) {
    this.value = v;
    this.has = true;
  }
  async exists() {
    return this.has;
  }
  release() {
    this.log.push(['release', this.name]);
    this.value = undefined;
    this.has = false;
  }
  async files() {
    return [];
  }
  describe() {
    return { name: this.name, type: 'memory' as const, versioned: false, options: {} };
  }
}

/** Logging datasets for the named entries (with an initial value where given); everything else as usual. */
export function loggingFactory(log: Array<[string, string]>, names: Record<string, unknown>): DatasetFactory {
  return (entry, env) => (Object.hasOwn(names, entry.name) ? new LoggingDataset(log, entry.name, names[entry.name]) : createDataset(entry, env));
}
