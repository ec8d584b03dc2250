// The project IR: plain data resolved from validated declarations. Every element keeps where it came from.
import type { SourceLocation } from '../diagnostics/types.ts';
import type { KilnProject } from '../types/kiln.ts';

export type ArgoSettings = NonNullable<KilnProject['argo']>;

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export const DATASET_TYPES = ['memory', 'json', 'jsonl', 'csv', 'text', 'binary', 'partitioned', 'tfjs_model', 'metrics'] as const;
export type DatasetType = (typeof DATASET_TYPES)[number];

/** A catalog entry (declared) or an implicit in-memory intermediate (declared: false). */
export interface DatasetIR {
  name: string;
  type: DatasetType;
  declared: boolean;
  /** Path relative to the project root (file datasets; for partitioned, the folder). */
  path?: string;
  /** Each save goes to a new version folder; loads take the latest or a pinned version. */
  versioned: boolean;
  /** Project-relative path of the JSON Schema of one record (jsonl, csv, json arrays) or of the value. */
  schema?: string;
  /** The schema itself, loaded and checked at resolve time. */
  schemaJson?: Record<string, unknown>;
  /** Type-specific options (csv: delimiter, header; partitioned: dataset type of each partition, suffix...). */
  options: Record<string, JsonValue>;
  description?: string;
  location?: SourceLocation;
}

export interface ParameterIR {
  /** The full tree from parameters.yaml, defaults already filled in. */
  values: Record<string, JsonValue>;
  /** Location of every dotted key, for diagnostics ("seed", "split.test_ratio"). */
  locations: Record<string, SourceLocation>;
}

/** One input or output of a node: the function argument (or field) it binds and the dataset it reads or writes. */
export interface BindingIR {
  /** Argument or field name in map form; null in list and single form (position given by `index`). */
  key: string | null;
  index: number;
  /** Dataset name, or `params:a.b` for a parameter. */
  dataset: string;
  location?: SourceLocation;
}

export type BindingForm = 'none' | 'single' | 'list' | 'map';

export interface NodeIR {
  /** Unique name, with its namespace prefix (`train.featurize`). */
  name: string;
  /** Function reference: project-relative module path and export name. */
  func: { module: string; export: string; location?: SourceLocation };
  inputForm: BindingForm;
  inputs: BindingIR[];
  outputForm: BindingForm;
  outputs: BindingIR[];
  tags: string[];
  namespace: string | null;
  /** The pipeline declaration file this node was declared in (after reuse, the reused pipeline's file). */
  declaredIn: string;
  location?: SourceLocation;
  /** Declared exemptions (`inference: { allow }`) from the hermetic inference rule: modules, or `process.env`. */
  inferenceAllow: string[];
  /** How the node runs on a cluster (`kiln emit argo`); absent when the declaration says nothing about it. */
  deploy?: NodeDeployment;
}

/** A node's pod group, resources, retries and timeout, as declared (used only by `kiln emit argo`). */
export interface NodeDeployment {
  pod?: { group: string; location?: SourceLocation };
  resources?: { cpu?: string; memory?: string; gpu?: number };
  retries?: number;
  timeoutSeconds?: number;
}

export interface ModelGateIR {
  metrics: Record<string, { op: '>=' | '>' | '<=' | '<' | '==' | '!='; value: number; location?: SourceLocation }>;
  betterThan: string | null;
  location?: SourceLocation;
}

export interface ModelBindingIR {
  name: string;
  input: string;
  output: string;
  /** JSON Schema of one business object (input record); defaults to the input dataset's record schema. */
  inputSchema?: string;
  inputSchemaJson?: Record<string, unknown>;
  outputSchema?: string;
  outputSchemaJson?: Record<string, unknown>;
  /** Nodes of the inference subgraph, in topological order. */
  nodes: string[];
  /** Inputs of the subgraph other than `input`: parameters and persisted fitted state. */
  fittedState: string[];
  parameters: string[];
  gate: ModelGateIR | null;
  location?: SourceLocation;
}

export interface PipelineIR {
  name: string;
  file: string;
  description: string;
  /** Nodes in deterministic topological order (ready sets sorted by name). */
  nodes: NodeIR[];
  model: ModelBindingIR | null;
  location?: SourceLocation;
}

export interface ProjectSettings {
  name: string;
  root: string;
  pipelinesDir: string;
  generatedDir: string;
  storeDir: string;
  mainBranch: string;
  backend: string;
  /** Folders outside the project root that datasets may use (absolute, resolved). */
  allowedPaths: string[];
  hooks: Array<{ module: string; export: string; location?: SourceLocation }>;
  publish: { target: string | null };
  /** kiln.yaml's `argo:` section (service account, Secret name, node selector...), when it has one. */
  argo?: ArgoSettings;
  /** kiln.yaml's `objects:` (an oci:// repository sharing node outputs), as written; KILN_OBJECTS overrides it at run time. */
  objects?: string | null;
  location?: SourceLocation;
  /** Where kiln.yaml says `generated:` (absent when the default is used). */
  generatedLocation?: SourceLocation;
}

export interface ProjectIR {
  settings: ProjectSettings;
  datasets: Record<string, DatasetIR>;
  parameters: ParameterIR;
  pipelines: Record<string, PipelineIR>;
}
