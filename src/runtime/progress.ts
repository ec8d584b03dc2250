// What a run shows while it runs: on a TTY a live line per running node with a progress bar for nodes that
// report progress; otherwise plain log lines. A summary table at the end either way.
export type NodeStatus = 'done' | 'cached' | 'failed' | 'skipped';

export interface RunReporter {
  nodeStart(index: number, total: number, node: string): void;
  /** The node missed the cache and its function is about to run (after nodeStart, which comes before the cache lookup). */
  nodeRunning?(node: string): void;
  nodeProgress(node: string, done: number, total: number, info?: Record<string, number | string>): void;
  nodeLog(node: string, message: string): void;
  nodeEnd(node: string, status: NodeStatus, ms: number): void;
  /** Prints the summary table of the run. */
  finish(rows: Array<{ node: string; status: NodeStatus | 'not run'; ms: number | null }>): void;
}

export function formatMs(ms: number): string {
  if (ms < 1) return `${(ms * 1000).toFixed(0)}µs`;
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 1 : 0)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m${Math.round((ms % 60_000) / 1000)}s`;
}

function bar(done: number, total: number, width = 24): string {
  const f = total > 0 ? Math.max(0, Math.min(1, done / total)) : 0;
  const full = Math.round(f * width);
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}]`;
}

function infoText(info?: Record<string, number | string>): string {
  if (!info) return '';
  return Object.entries(info)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? (Number.isInteger(v) ? v : v.toPrecision(4)) : v}`)
    .join(' ');
}

export function summaryTable(rows: Array<{ node: string; status: string; ms: number | null }>): string {
  const w = Math.max(4, ...rows.map((r) => r.node.length));
  const lines = [`${'node'.padEnd(w)}  ${'status'.padEnd(7)}  time`, `${'-'.repeat(w)}  -------  --------`];
  for (const r of rows) lines.push(`${r.node.padEnd(w)}  ${r.status.padEnd(7)}  ${r.ms === null ? '' : formatMs(r.ms)}`);
  return lines.join('\n') + '\n';
}

/** Plain lines, for logs and pipes. */
export function plainReporter(write: (s: string) => void): RunReporter {
  const lastPct = new Map<string, number>();
  // "[i/n] node" is written once it is known whether the node runs: a node then skipped from the cache never said "running".
  const pending = new Map<string, string>();
  const announce = (node: string, what: string) => {
    const head = pending.get(node);
    if (head === undefined) return false;
    pending.delete(node);
    write(`${head} ${node}: ${what}\n`);
    return true;
  };
  return {
    nodeStart: (i, n, node) => {
      pending.set(node, `[${i}/${n}]`);
    },
    nodeRunning: (node) => {
      announce(node, 'running');
    },
    nodeProgress: (node, done, total, info) => {
      announce(node, 'running');
      // Log every 10% so that logs stay short.
      const pct = total > 0 ? Math.floor((done / total) * 10) : 0;
      if (lastPct.get(node) === pct && done !== total) return;
      lastPct.set(node, pct);
      write(`  ${node}: ${done}/${total} ${infoText(info)}\n`);
    },
    nodeLog: (node, message) => {
      announce(node, 'running');
      write(`  ${node}: ${message}\n`);
    },
    nodeEnd: (node, status, ms) => {
      const what = `${status === 'cached' ? 'skipped, unchanged (restored from cache)' : status} in ${formatMs(ms)}`;
      if (!announce(node, what)) write(`  ${node}: ${what}\n`);
    },
    finish: (rows) => write('\n' + summaryTable(rows)),
  };
}

/** Live lines redrawn in place on a terminal. */
export function ttyReporter(stream: NodeJS.WriteStream, color: boolean): RunReporter {
  const running = new Map<string, { index: number; total: number; start: number; progress?: { done: number; total: number; info?: Record<string, number | string> } }>();
  let drawn = 0;
  let timer: NodeJS.Timeout | undefined;
  const dim = (s: string) => (color ? `\u001b[2m${s}\u001b[0m` : s);
  const green = (s: string) => (color ? `\u001b[32m${s}\u001b[0m` : s);
  const red = (s: string) => (color ? `\u001b[31m${s}\u001b[0m` : s);
  const clear = () => {
    if (drawn > 0) stream.write(`\u001b[${drawn}A\u001b[0J`);
    drawn = 0;
  };
  const draw = () => {
    clear();
    const width = stream.columns || 100;
    const lines: string[] = [];
    for (const [node, r] of running) {
      const elapsed = formatMs(Date.now() - r.start);
      let line = `[${r.index}/${r.total}] ${node} ${dim(elapsed)}`;
      if (r.progress) line += ` ${bar(r.progress.done, r.progress.total)} ${r.progress.done}/${r.progress.total} ${infoText(r.progress.info)}`;
      lines.push(line.slice(0, width + (color ? 10 : 0)));
    }
    if (lines.length) stream.write(lines.join('\n') + '\n');
    drawn = lines.length;
  };
  const above = (s: string) => {
    clear();
    stream.write(s);
    draw();
  };
  return {
    nodeStart(i, n, node) {
      running.set(node, { index: i, total: n, start: Date.now() });
      if (!timer) timer = setInterval(draw, 100).unref();
      draw();
    },
    nodeProgress(node, done, total, info) {
      const r = running.get(node);
      if (r) r.progress = { done, total, ...(info ? { info } : {}) };
    },
    nodeLog(node, message) {
      above(`  ${dim(node + ':')} ${message}\n`);
    },
    nodeEnd(node, status, ms) {
      const r = running.get(node);
      running.delete(node);
      const mark = status === 'failed' ? red('✗') : green('✓');
      const what = status === 'cached' ? 'skipped, unchanged' : status;
      above(`${mark} [${r?.index ?? '?'}/${r?.total ?? '?'}] ${node} ${dim(`${what} in ${formatMs(ms)}`)}\n`);
      if (running.size === 0 && timer) {
        clearInterval(timer);
        timer = undefined;
      }
    },
    finish(rows) {
      if (timer) clearInterval(timer);
      timer = undefined;
      clear();
      stream.write('\n' + summaryTable(rows));
    },
  };
}

export const silentReporter: RunReporter = { nodeStart() {}, nodeProgress() {}, nodeLog() {}, nodeEnd() {}, finish() {} };
