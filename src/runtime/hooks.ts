// The typed hook interface: extension points of a run. Tracking is built on it; users register theirs in kiln.yaml.

export type RunStatus = 'RUNNING' | 'FINISHED' | 'FAILED' | 'KILLED';

export interface RunInfo {
  /** Run id (assigned by the run store, or a random id when the run is not tracked). */
  runId: string;
  pipeline: string;
  projectRoot: string;
  /** Node names that will be considered by this run, in order. */
  nodes: string[];
  /** Flattened parameters (`split.test_ratio`) after overrides. */
  params: Record<string, unknown>;
  /** The command line that started the run. */
  command: string[];
  backend: string | null;
}

/** What a run records of one node: timings, its fingerprint, and the content hash of every dataset read and written. */
export interface NodeExecution {
  node: string;
  status: 'done' | 'cached' | 'failed';
  startedAt: number;
  endedAt: number;
  /** Precise duration (startedAt/endedAt are epoch milliseconds). */
  durationMs?: number;
  /** Hash of the node's code, the parameters it reads and the content of its inputs; null when the run does not track content. */
  fingerprint: string | null;
  cacheHit: boolean;
  /** For a cache hit, the run whose execution was reused. */
  reusedFrom?: string;
  /**
   * For a cache hit, every output the reused execution recorded, those only its record knows (a node's logged
   * metrics and files) included: the recorder replays them without looking the execution up a second time.
   */
  reusedOutputs?: Record<string, { sha256: string; object: string }>;
  /** dataset → sha256 of its content, for datasets read (parameters excluded). */
  inputs: Record<string, string>;
  /** dataset → sha256 of its content, for datasets written. */
  outputs: Record<string, string>;
  /** dataset → object-store reference of a snapshot, for outputs that can be restored later (cache). */
  snapshots: Record<string, string>;
  /** For a cache hit, the persisted outputs whose files differed from what the node produced (a hand edit) and were put back. */
  restored?: string[];
  error?: string;
}

export interface NodeEvent {
  run: RunInfo;
  node: string;
}

export interface Hooks {
  beforePipelineRun?(e: { run: RunInfo }): void | Promise<void>;
  afterPipelineRun?(e: { run: RunInfo; status: RunStatus; error?: unknown }): void | Promise<void>;
  beforeNodeRun?(e: NodeEvent & { inputs: Record<string, unknown>; fingerprint: string | null }): void | Promise<void>;
  afterNodeRun?(e: NodeEvent & { inputs: Record<string, unknown>; outputs: Record<string, unknown>; durationMs: number; cached: boolean; execution: NodeExecution }): void | Promise<void>;
  onNodeError?(e: NodeEvent & { error: unknown }): void | Promise<void>;
  beforeDatasetLoaded?(e: NodeEvent & { dataset: string }): void | Promise<void>;
  afterDatasetLoaded?(e: NodeEvent & { dataset: string; data: unknown; durationMs: number }): void | Promise<void>;
  beforeDatasetSaved?(e: NodeEvent & { dataset: string; data: unknown }): void | Promise<void>;
  afterDatasetSaved?(e: NodeEvent & { dataset: string; data: unknown; durationMs: number }): void | Promise<void>;
}
