// Records a run in the store, built on the runner's hooks: the run with its git stamp and parameters, each node's
// execution (fingerprint, cache hit, content hashes), metrics and files. Metrics and files a node logs are kept with
// its execution too, so that a later run that skips the node replays them and still has the full record.
// Ended nodes are written in batches, one transaction (and one sync of their snapshots) per batch: a transaction per
// node was most of what tracking cost a small node. A batch waits at most FLUSH_MS; a node still running by then gets
// its RUNNING row, so the store shows what runs and a killed run's node is marked KILLED. A kill loses at most the
// last FLUSH_MS of ended nodes: their records are absent, their staged snapshots swept, and the next run re-runs them.
import type { Hooks, NodeExecution, RunStatus } from '../runtime/hooks.ts';
import type { GitStamp } from './git.ts';
import { diag, isKilnError, type Diagnostic } from '../diagnostics/index.ts';
import type { RunStore, DatasetOutput, RunInvocation, EndedNode, FinishNode } from './store.ts';

/** How long an ended node's record may wait for others to share its transaction. */
export const FLUSH_MS = 100;
/** A batch this large is written at once. */
const BATCH_MAX = 500;

/** Output name under which a node's logged metrics and files are kept with its execution. */
export const NODE_LOG_OUTPUT = '__kiln_node_log__';

interface NodeLog {
  metrics: Array<{ key: string; value: number; step: number }>;
  files: Array<{ name: string; object: string }>;
}

export interface RecorderStart {
  pipeline: string;
  command: string[];
  git: GitStamp | null;
  versions: { kiln: string; node: string; tfjs: string | null };
  backend: string | null;
  params: Record<string, unknown>;
  tags?: Record<string, string>;
  invocation?: RunInvocation;
}

export class RunRecorder {
  /** Nodes that have a row already (they ran past a flush): their execution id, once written. */
  private readonly executionIds = new Map<string, Promise<number>>();
  /** Nodes started and not ended, with what their RUNNING row needs. */
  private readonly running = new Map<string, { fingerprint: string | null; startTime: number }>();
  private readonly logs = new Map<string, NodeLog>();
  private pending: Promise<unknown>[] = [];
  private ended: EndedNode[] = [];
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly store: RunStore,
    readonly runId: string,
  ) {}

  static async start(store: RunStore, start: RecorderStart): Promise<RunRecorder> {
    const run = await store.createRun({ pipeline: start.pipeline, command: start.command, git: start.git, versions: start.versions, backend: start.backend, params: start.params, ...(start.tags ? { tags: start.tags } : {}), ...(start.invocation ? { invocation: start.invocation } : {}) });
    return new RunRecorder(store, run.id);
  }

  /** Records into the run shared under `key` (an Argo workflow's uid): creates it if no process has yet. */
  static async join(store: RunStore, key: string, start: RecorderStart): Promise<{ recorder: RunRecorder; created: boolean }> {
    const { run, created } = await store.joinRun(key, { pipeline: start.pipeline, command: start.command, git: start.git, versions: start.versions, backend: start.backend, params: start.params, ...(start.tags ? { tags: start.tags } : {}), ...(start.invocation ? { invocation: start.invocation } : {}) });
    return { recorder: new RunRecorder(store, run.id), created };
  }

  /**
   * Writes what this process recorded and leaves the run RUNNING, for the other processes of a shared run and the
   * one that finishes it. Returns what a write that failed meanwhile was (a full disk), as `finish` does.
   */
  async detach(): Promise<unknown> {
    let pending: unknown;
    await this.writeBatch().catch((e: unknown) => (pending = e));
    await this.flush().catch((e: unknown) => (pending ??= e));
    return pending;
  }

  private log(node: string): NodeLog {
    let l = this.logs.get(node);
    if (!l) {
      l = { metrics: [], files: [] };
      this.logs.set(node, l);
    }
    return l;
  }

  /** Metrics reported by a node (its context, or a metrics dataset it saved). */
  metrics(node: string, metrics: Record<string, number>, step?: number): void {
    for (const [key, value] of Object.entries(metrics)) this.log(node).metrics.push({ key, value, step: step ?? 0 });
    this.defer(this.store.logMetrics(this.runId, metrics, step === undefined ? {} : { step }));
  }

  /** A file reported by a node (a training-curve image, say). */
  file(node: string, name: string, content: string | Uint8Array): void {
    this.defer(
      this.store.logFile(this.runId, name, content).then((f) => {
        this.log(node).files.push({ name, object: f.object });
      }),
    );
  }

  /**
   * Keeps a write for the next flush. A refused write (a metric that is not a number, say) rejects there, failing the
   * node with its diagnostic; until then it is marked handled, so that it does not end the process as an unhandled rejection.
   */
  private defer(write: Promise<unknown>): void {
    write.catch(() => {});
    this.pending.push(write);
  }

  private async flush(): Promise<void> {
    const p = this.pending;
    this.pending = [];
    await Promise.all(p);
  }

  private async nodeLogOutput(node: string): Promise<Record<string, DatasetOutput>> {
    await this.flush();
    const l = this.logs.get(node);
    if (!l || (l.metrics.length === 0 && l.files.length === 0)) return {};
    const object = await this.store.objects.putBytes(JSON.stringify(l), { deferSync: true });
    return { [NODE_LOG_OUTPUT]: { sha256: object, object } };
  }

  /**
   * Replays what an earlier execution of a skipped node logged, so this run's record is complete; returns that log
   * as an output of this execution, so that a later run skipping the node again finds it here too.
   */
  private async replay(node: string, fingerprint: string | null, reused: NodeExecution['reusedOutputs']): Promise<Record<string, DatasetOutput>> {
    if (!fingerprint) return {};
    // The runner passes what it found; a second lookup per skipped node was a tenth of a cached run.
    const o = reused ? reused[NODE_LOG_OUTPUT] : (await this.store.findCachedExecution(node, fingerprint))?.outputs[NODE_LOG_OUTPUT];
    if (!o) return {};
    const l = JSON.parse((await this.store.objects.getBytes(o.object)).toString('utf8')) as NodeLog;
    const bySteps = new Map<number, Record<string, number>>();
    for (const m of l.metrics) bySteps.set(m.step, { ...(bySteps.get(m.step) ?? {}), [m.key]: m.value });
    for (const [step, metrics] of [...bySteps.entries()].sort(([a], [b]) => a - b)) await this.store.logMetrics(this.runId, metrics, { step });
    for (const f of l.files) await this.store.attachFile(this.runId, f.name, f.object);
    return { [NODE_LOG_OUTPUT]: { sha256: o.sha256, object: o.object } };
  }

  private outputsOf(e: NodeExecution): Record<string, DatasetOutput> {
    const out: Record<string, DatasetOutput> = {};
    for (const [name, sha256] of Object.entries(e.outputs)) out[name] = { sha256, object: e.snapshots[name] ?? null };
    return out;
  }

  /** Writes the ended nodes waiting in the batch, then RUNNING rows for nodes that are still running. In order, one at a time. */
  private writeBatch(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const next = this.writing.then(async () => {
      const batch = this.ended;
      this.ended = [];
      await this.store.recordNodes(this.runId, batch);
      for (const [node, start] of this.running) {
        if (!this.executionIds.has(node)) this.executionIds.set(node, this.store.startNode(this.runId, node, start));
      }
      await Promise.all(this.executionIds.values());
    });
    this.writing = next.catch(() => {});
    return next;
  }

  /** Starts the clock for the batch: the first event after a write schedules the next one. */
  private schedule(): void {
    if (this.timer) return;
    // A write that fails here (a full disk) is reported where the run ends, like a failed metric write.
    this.timer = setTimeout(() => this.defer(this.writeBatch()), FLUSH_MS);
    this.timer.unref();
  }

  /** An ended node: into the batch, or finished in its row when it has one. */
  private async nodeEnded(node: string, start: EndedNode['start'], finish: FinishNode): Promise<void> {
    this.running.delete(node);
    const id = this.executionIds.get(node);
    if (id !== undefined) {
      this.executionIds.delete(node);
      await this.store.finishNode(await id, finish);
      return;
    }
    this.ended.push({ node, start, finish });
    if (this.ended.length >= BATCH_MAX) await this.writeBatch();
    else this.schedule();
  }

  readonly hooks: Hooks = {
    beforeNodeRun: async (e) => {
      this.running.set(e.node, { fingerprint: e.fingerprint, startTime: Date.now() });
      this.schedule();
    },
    afterNodeRun: async (e) => {
      const ex = e.execution;
      const start = this.running.get(e.node) ?? { fingerprint: ex.fingerprint, startTime: ex.startedAt };
      const logOutput = ex.cacheHit ? await this.replay(e.node, ex.fingerprint, ex.reusedOutputs) : await this.nodeLogOutput(e.node);
      await this.nodeEnded(e.node, start, { status: 'FINISHED', cacheHit: ex.cacheHit, inputs: ex.inputs, outputs: { ...this.outputsOf(ex), ...logOutput }, endTime: ex.endedAt });
    },
    onNodeError: async (e) => {
      await this.flush();
      const start = this.running.get(e.node) ?? { fingerprint: null, startTime: Date.now() };
      await this.nodeEnded(e.node, start, { status: 'FAILED', error: e.error instanceof Error ? e.error.message : String(e.error) });
      // A failure ends the run: what it recorded is written now, not left to a timer.
      await this.writeBatch();
    },
  };

  /** The backend, once the run sets one up (lazily, when a node first needs it). */
  async setBackend(backend: string | null, tfjs: string | null): Promise<void> {
    await this.store.setBackend(this.runId, backend, tfjs);
  }

  /**
   * Records the end of the run. A pending write that failed (a full disk, say) does not keep the run RUNNING: a run that
   * would have FINISHED is recorded FAILED with that cause, and the failure is returned for the caller to report.
   */
  async finish(status: RunStatus, error?: string): Promise<unknown> {
    let pending: unknown;
    await this.writeBatch().catch((e: unknown) => (pending = e));
    await this.flush().catch((e: unknown) => (pending ??= e));
    if (pending !== undefined && status === 'FINISHED') {
      status = 'FAILED';
      error = pending instanceof Error ? pending.message : String(pending);
    }
    await this.store.finishRun(this.runId, { status: status === 'RUNNING' ? 'FAILED' : status, ...(error ? { error } : {}) });
    return pending;
  }

  /**
   * `finish`, for a command that reports: the diagnostics to show beside the run's own. What a write that failed
   * meanwhile (a full disk) was, and KILN4020 when the store cannot record the end at all (the run then stays RUNNING
   * until a later command reaps it as KILLED, so this is the only place the cause is told).
   */
  async end(status: RunStatus, error?: string): Promise<Diagnostic[]> {
    let pending: unknown;
    try {
      pending = await this.finish(status, error);
    } catch (e) {
      const reason = isKilnError(e) ? e.diagnostics.map((d) => `${d.code}: ${d.message}`).join('; ') : e instanceof Error ? e.message : String(e);
      return [diag('KILN4020', { run: this.runId, status: status === 'RUNNING' ? 'FAILED' : status, path: this.store.location, reason })];
    }
    if (pending === undefined) return [];
    // The run was recorded FAILED with this cause; a failure that is not a user's problem is a bug and goes up as one.
    if (isKilnError(pending)) return pending.diagnostics;
    throw pending;
  }
}
