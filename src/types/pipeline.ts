// generated from schema/pipeline.schema.json by scripts/gen-types.ts; do not edit; run `npm run gen:types`

/**
 * A dataset name, or params:<dotted.key> for a parameter.
 */
export type DatasetRef = string;
/**
 * Tags, for running a subset (`kiln run --tags`).
 */
export type Tags = string[];
/**
 * The node function: '<relative file>#<export name>', the file relative to this pipeline file.
 */
export type FunctionRef = string;

/**
 * A pipeline: nodes (functions wired to datasets) and, optionally, the model binding that makes part of it the inference path.
 */
export interface PipelineDeclaration {
  /**
   * Name of the pipeline (`kiln run <name>`).
   */
  pipeline: string;
  /**
   * What the pipeline does, for people.
   */
  description?: string;
  /**
   * The nodes, in any order (kiln orders them by their data dependencies), and reuses of other pipelines under a namespace.
   */
  nodes: (PipelineReuse | NodeDeclaration)[];
  model?: ModelBinding;
}
/**
 * Reuse of another pipeline's nodes under a namespace (Kedro's pipeline() wrapper): its internal datasets get the namespace prefix, except those remapped here.
 */
export interface PipelineReuse {
  /**
   * Name of the pipeline to reuse.
   */
  pipeline: string;
  /**
   * Prefix for node names, internal datasets (ns.x) and parameters (params:ns.x).
   */
  namespace?: string;
  inputs?: Remap;
  outputs?: Remap;
  parameters?: Remap;
  tags?: Tags;
}
/**
 * A renaming {inner: outer}.
 */
export interface Remap {
  [k: string]: DatasetRef;
}
/**
 * A node: a function, the datasets it reads and the datasets it writes.
 */
export interface NodeDeclaration {
  /**
   * Unique node name; defaults to the export name of `run`.
   */
  name?: string;
  run: FunctionRef;
  /**
   * Datasets and parameters passed to the function.
   */
  inputs?:
    | DatasetRef
    | DatasetRef[]
    | {
        [k: string]: DatasetRef;
      };
  /**
   * Datasets the function's return value is saved to.
   */
  outputs?:
    | DatasetRef
    | DatasetRef[]
    | {
        [k: string]: DatasetRef;
      };
  tags?: Tags;
  /**
   * Namespace of the node (prefix of its name), for `kiln run --namespaces`.
   */
  namespace?: string;
  /**
   * What the node does, for people.
   */
  description?: string;
  inference?: InferenceAccess;
  /**
   * Pod group for `kiln emit argo`: nodes with the same group run in one Argo task (one pod, one process), so the data they pass each other never leaves the pod. A group's nodes must be contiguous in the graph: no path between two of them may pass through a node of another task.
   */
  pod?: string;
  resources?: NodeResources;
  /**
   * How many times Argo retries this node's task after a failure (`kiln emit argo`: retryStrategy.limit).
   */
  retries?: number;
  /**
   * Longest time this node's task may run on Argo (activeDeadlineSeconds): a duration such as 90s, 30m, 2h or 1h30m.
   */
  timeout?: string;
}
/**
 * What this node may reach beyond its inputs and fitted state when it runs on the inference path of a model. By default the artifact's bundle refuses node code on the inference path that imports file, process, network or VM modules or reads process.env, because predictions must depend only on the input records and the fitted state.
 */
export interface InferenceAccess {
  /**
   * Exemptions, each a reviewed decision: a Node.js module the node's inference code may import (fs also covers fs/promises; https and http2 are exemptions of their own), or process.env. Parity still replays the artifact in a fresh working directory, with another environment and a moved clock.
   */
  allow?: (
    | 'fs'
    | 'child_process'
    | 'net'
    | 'http'
    | 'https'
    | 'http2'
    | 'dgram'
    | 'dns'
    | 'tls'
    | 'worker_threads'
    | 'cluster'
    | 'vm'
    | 'process.env'
  )[];
}
/**
 * What this node's pod asks Kubernetes for when the pipeline runs on Argo Workflows (`kiln emit argo`): requests, and limits for memory and GPUs.
 */
export interface NodeResources {
  /**
   * CPU cores, as a Kubernetes quantity: 2, 0.5 or 500m.
   */
  cpu?: string;
  /**
   * Memory, as a Kubernetes quantity: 512Mi, 4Gi or 1G.
   */
  memory?: string;
  /**
   * NVIDIA GPUs (nvidia.com/gpu), a whole number.
   */
  gpu?: number;
}
/**
 * Makes the part of this pipeline between `input` and `output` the inference path of a model: the artifact runs exactly that code with the fitted state of the training run.
 */
export interface ModelBinding {
  /**
   * Model name in the registry and the artifact.
   */
  name: string;
  /**
   * Dataset holding the business objects that enter inference (a list of records).
   */
  input: string;
  /**
   * Dataset that inference returns (a list aligned with the input).
   */
  output: string;
  /**
   * JSON Schema of one input record, relative to this file; defaults to the catalog schema of `input`.
   */
  input_schema?: string;
  /**
   * JSON Schema of one output record, relative to this file; defaults to the catalog schema of `output`.
   */
  output_schema?: string;
  gate?: ModelGate;
}
/**
 * Conditions `kiln publish` requires before it publishes a new version.
 */
export interface ModelGate {
  /**
   * Thresholds on the run's metrics, e.g. accuracy: ">= 0.98".
   */
  metrics?: {
    [k: string]: string;
  };
  /**
   * Alias whose version the new one must match or beat on every gated metric (e.g. production); ignored while the alias is unset.
   */
  better_than?: string;
}
