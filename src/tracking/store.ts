// The run store's contract: what the runner writes and what commands read. SQLite stands behind it now
// (sqlite-store.ts); a shared database can later, which is why every operation returns a promise.
import type { JsonValue } from '../ir/types.ts';
import type { RunStatus } from '../runtime/hooks.ts';
import type { GitStamp, UncommittedFile } from './git.ts';
import type { ObjectStore } from './objects.ts';

export type { RunStatus };
export const RUN_STATUSES: readonly RunStatus[] = ['RUNNING', 'FINISHED', 'FAILED', 'KILLED'];

export interface RunVersions {
  kiln: string;
  node: string;
  /** @tensorflow/tfjs version, or null when the pipeline does not load TensorFlow.js. */
  tfjs: string | null;
}

/** How a run was started, where that can depart from what the commit declares (what `kiln publish` checks). */
export interface RunInvocation {
  /** `--params` overrides as applied (dotted key → typed value). */
  params: Record<string, JsonValue>;
  /** `--load-version` pins: dataset → version. */
  loadVersions: Record<string, string>;
  /** The node filter options given (`nodes`, `fromNodes`, `tags`…), only those that were. */
  filter: Record<string, string[]>;
  /** `--backend` when given; null when the run used kiln.yaml's. */
  backend: string | null;
  /** False with `--no-cache`. */
  cache: boolean;
}

export interface NewRun {
  pipeline: string;
  /** The command line that started the run (process.argv, usually). */
  command: string[];
  /** The stamp from `gitStamp()`; null or a stamp without commit when not in a repository. */
  git: GitStamp | null;
  versions: RunVersions;
  backend: string | null;
  /** Parameters to record at once (nested or flattened; flattened to dotted keys). */
  params?: Record<string, unknown>;
  tags?: Record<string, string>;
  invocation?: RunInvocation;
  /** Milliseconds since the epoch; now by default. */
  startTime?: number;
}

export interface RunGit {
  commit: string | null;
  branch: string | null;
  dirty: boolean | null;
  diffHash: string | null;
}

/** What lists and searches return. */
export interface RunSummary {
  id: string;
  pipeline: string;
  status: RunStatus;
  startTime: number;
  endTime: number | null;
  error: string | null;
  git: RunGit;
  backend: string | null;
}

export interface MetricPoint {
  value: number;
  step: number;
  timestamp: number;
}

export interface LatestMetric extends MetricPoint {
  /** How many points the metric has in its history. */
  historyLength: number;
}

export type NodeStatus = RunStatus;

export interface DatasetOutput {
  sha256: string;
  /** Hash of the output's snapshot in the object store (file or tree), when it is cacheable. */
  object?: string | null;
}

export interface NodeExecution {
  id: number;
  node: string;
  status: NodeStatus;
  startTime: number;
  endTime: number | null;
  fingerprint: string | null;
  cacheHit: boolean;
  error: string | null;
  /** Dataset name → sha256 of what the node read. */
  inputs: Record<string, string>;
  /** Dataset name → sha256 (and snapshot) of what it wrote. */
  outputs: Record<string, { sha256: string; object: string | null }>;
}

export interface RunFile {
  name: string;
  object: string;
  size: number;
  timestamp: number;
}

/** Everything about one run. */
export interface RunRecord extends RunSummary {
  git: RunGit & { uncommitted: UncommittedFile[] };
  command: string[];
  /** Null for runs recorded before kiln kept it (schema version 3), or created without one through the API. */
  invocation: RunInvocation | null;
  versions: RunVersions;
  host: { hostname: string; pid: number };
  params: Record<string, JsonValue>;
  metrics: Record<string, LatestMetric>;
  tags: Record<string, string>;
  nodes: NodeExecution[];
  files: RunFile[];
}

export interface StartNode {
  fingerprint: string | null;
  /** Inputs already known when the node starts (they can also be given to finishNode). */
  inputs?: Record<string, string>;
  startTime?: number;
}

export interface FinishNode {
  status: 'FINISHED' | 'FAILED';
  /** True when the outputs were restored from an earlier execution instead of computed. */
  cacheHit?: boolean;
  inputs?: Record<string, string>;
  outputs?: Record<string, DatasetOutput>;
  error?: string;
  endTime?: number;
}

/** A node execution recorded whole, once it ended: what `recordNodes` writes for many nodes in one transaction. */
export interface EndedNode {
  node: string;
  start: StartNode;
  finish: FinishNode;
}

/** A successful earlier execution whose outputs can all be restored from the object store. */
export interface CachedExecution {
  executionId: number;
  runId: string;
  node: string;
  fingerprint: string;
  endTime: number;
  inputs: Record<string, string>;
  outputs: Record<string, { sha256: string; object: string }>;
}

export interface FinishRun {
  status: 'FINISHED' | 'FAILED' | 'KILLED';
  error?: string;
  endTime?: number;
}

export interface ListRuns {
  pipeline?: string;
  status?: RunStatus;
  /** Newest first; 100 by default. */
  limit?: number;
}

export interface RunStore {
  /** Where the store is (a file path, a URL) for messages. */
  readonly location: string;
  readonly objects: ObjectStore;

  createRun(run: NewRun): Promise<RunSummary>;
  /**
   * The run shared under `key` (several processes, possibly on several hosts, record into it): created from `run` by
   * the first caller, returned as it is to the others, atomically. No process owns a shared run: it is never reaped.
   */
  joinRun(key: string, run: NewRun): Promise<{ run: RunSummary; created: boolean }>;
  /** Records parameters (flattened to dotted keys). Write-once: the same value again is fine, another is KILN4004. */
  logParams(runId: string, params: Record<string, unknown>): Promise<void>;
  /** One point per key at `step` (0 by default). NaN is kept. */
  logMetrics(runId: string, metrics: Record<string, number>, opts?: { step?: number; timestamp?: number }): Promise<void>;
  /** Sets a user tag (also on a finished run: tags annotate). branch, commit and dirty are reserved for the git stamp. */
  setTag(runId: string, key: string, value: string): Promise<void>;
  /** Stores `content` in the object store and records it with the run under `name` (a later call replaces it). */
  logFile(runId: string, name: string, content: string | Uint8Array): Promise<RunFile>;
  /** Records an object already in the object store under `name`. */
  attachFile(runId: string, name: string, object: string): Promise<RunFile>;

  startNode(runId: string, node: string, start: StartNode): Promise<number>;
  finishNode(executionId: number, result: FinishNode): Promise<void>;
  /** The newest successful execution of `node` with `fingerprint` whose output snapshots all still exist, or null. */
  findCachedExecution(node: string, fingerprint: string): Promise<CachedExecution | null>;
  /**
   * Records ended node executions of a RUNNING run in one transaction (startNode + finishNode for each); returns their
   * ids. Objects their outputs point at are synced first (objects.sync), so a record never points at a staged object.
   */
  recordNodes(runId: string, nodes: readonly EndedNode[]): Promise<number[]>;

  /** Records the TensorFlow.js backend (and tfjs version) once the run knows it: backends are set up only when a node needs one. */
  setBackend(runId: string, backend: string | null, tfjs: string | null): Promise<void>;
  /** Ends a RUNNING run; node executions still RUNNING end with it (FAILED, or KILLED for a killed run). */
  finishRun(runId: string, outcome: FinishRun): Promise<void>;
  /** Marks KILLED every RUNNING run of this host whose process is gone; returns their ids. Done on open too. */
  reapDeadRuns(): Promise<string[]>;

  /** A run by full id or unique prefix (KILN4002 when none matches, KILN4003 when several do). */
  getRun(idOrPrefix: string): Promise<RunRecord>;
  resolveRunId(idOrPrefix: string): Promise<string>;
  listRuns(query?: ListRuns): Promise<RunSummary[]>;
  /** The newest FINISHED run of `pipeline` at `commit` (a full sha), or null; `clean` keeps only runs of a clean tree. */
  latestFinishedRun(pipeline: string, commit: string, opts?: { clean?: boolean }): Promise<RunSummary | null>;
  /** The FINISHED runs of `pipeline` at `commit`, newest first (at most `limit`, 20 by default); `clean` as above. */
  finishedRuns(pipeline: string, commit: string, opts?: { clean?: boolean; limit?: number }): Promise<RunSummary[]>;
  /** Runs matching a filter such as `metrics.accuracy > 0.9 and params.seed = 1` (src/tracking/filter.ts), newest first. */
  searchRuns(filter: string, opts?: { limit?: number }): Promise<RunSummary[]>;
  metricHistory(runId: string, key: string): Promise<MetricPoint[]>;
  /** The shortest prefix of each id that no other run shares, at least `minLength` characters. */
  shortIds(ids: readonly string[], minLength?: number): Promise<Map<string, string>>;

  close(): void;
}
