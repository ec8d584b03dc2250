// `kiln runs list|show|get|compare|search`: reading the run store of a project. Printing only; the queries are in src/tracking/.
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import type { CommandModule } from './main.ts';
import { handleFailure, displayPath, EXIT_OK, type Io } from './io.ts';
import { getRunFile } from './runs-get.ts';
import { diag, KilnError } from '../diagnostics/index.ts';
import { openProjectTracking, compareRuns, filterToSql, type RunRecord, type RunSummary, type RunStatus, type Tracking, type RunComparison } from '../tracking/index.ts';
import type { JsonValue } from '../ir/types.ts';
import { runStoreOf } from '../config/run-store.ts';
import { objectsRemoteOf, objectsSettingOf } from '../config/objects-remote.ts';
import { addRunsDeleteCommand } from './runs-delete.ts';
import { addRunsKillCommand } from './runs-kill.ts';

interface Common {
  project?: string;
  json?: boolean;
}

const ansi = (code: string) => (s: string) => `\u001b[${code}m${s}\u001b[0m`;
const paint = { green: ansi('32'), red: ansi('31'), yellow: ansi('33'), cyan: ansi('36'), dim: ansi('2'), bold: ansi('1') };
type Style = keyof typeof paint;

const STATUS_STYLE: Record<RunStatus, Style> = { FINISHED: 'green', FAILED: 'red', KILLED: 'yellow', RUNNING: 'cyan' };

interface Cell {
  text: string;
  style?: Style;
  align?: 'right';
}
type CellInput = string | Cell;

/** Columns padded to the widest cell; colour is applied after padding so that escape codes never break alignment. */
function table(io: Io, headers: string[], rows: CellInput[][], indent = ''): string {
  const cells = rows.map((r) => r.map((c): Cell => (typeof c === 'string' ? { text: c } : c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]?.text.length ?? 0)));
  const line = (r: Cell[]) =>
    indent +
    r
      .map((c, i) => {
        const padded = i === r.length - 1 && c.align !== 'right' ? c.text : c.align === 'right' ? c.text.padStart(widths[i]) : c.text.padEnd(widths[i]);
        return io.color && c.style ? paint[c.style](padded) : padded;
      })
      .join('  ')
      .replace(/\s+$/, '');
  const head = line(headers.map((h) => ({ text: h, style: 'bold' as Style })));
  return [head, ...cells.map(line)].join('\n') + '\n';
}

function heading(io: Io, s: string): string {
  return io.color ? paint.bold(s) : s;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

function formatTime(ms: number | null): string {
  if (ms === null) return '-';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

function formatDuration(start: number, end: number | null): string {
  if (end === null) return '-';
  const ms = Math.max(0, end - start);
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad2(s % 60)}s`;
  return `${Math.floor(s / 3600)}h ${pad2(Math.floor((s % 3600) / 60))}m`;
}

function formatNumber(v: number | null): string {
  if (v === null) return '-';
  if (!Number.isFinite(v)) return String(v);
  return String(Number(v.toPrecision(6)));
}

function formatValue(v: JsonValue | undefined): string {
  if (v === undefined) return '-';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function formatCommit(r: RunSummary): string {
  if (!r.git.commit) return '-';
  return r.git.commit.slice(0, 7) + (r.git.dirty ? '*' : '');
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** Where the runs are, for messages: the store's folder, or its URL with the password masked. */
function storeDirOf(io: Io, opts: Common): string {
  const location = runStoreOf(path.resolve(io.cwd, opts.project ?? '.'));
  return location.kind === 'sqlite' ? location.dir : location.display;
}

/**
 * Opens the project's store, or returns null when there is none yet (reading commands never create one). `objects`:
 * with the objects repository behind it (kiln.yaml `objects:`, KILN_OBJECTS), for a command that reads objects' content.
 */
function openExisting(io: Io, opts: Common, objects = false): Promise<Tracking | null> {
  const root = path.resolve(io.cwd, opts.project ?? '.');
  return openProjectTracking(root, objects ? { objectsRemote: objectsRemoteOf({ objects: objectsSettingOf(root) }) } : {});
}

function parseLimit(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1.');
  return n;
}

async function listOutput(io: Io, tracking: Tracking | null, runs: RunSummary[], json: boolean | undefined): Promise<void> {
  if (json) {
    io.out(JSON.stringify(runs, null, 2) + '\n');
    return;
  }
  if (runs.length === 0) {
    io.out('No runs.\n');
    return;
  }
  const short = tracking ? await tracking.runs.shortIds(runs.map((r) => r.id)) : new Map<string, string>();
  const rows = runs.map((r) => [
    short.get(r.id) ?? r.id,
    r.pipeline,
    { text: r.status, style: STATUS_STYLE[r.status] },
    formatTime(r.startTime),
    { text: formatDuration(r.startTime, r.endTime), align: 'right' as const },
    formatCommit(r),
    r.git.branch ?? '-',
  ]);
  io.out(table(io, ['RUN', 'PIPELINE', 'STATUS', 'STARTED', 'DURATION', 'COMMIT', 'BRANCH'], rows));
}

const UNCOMMITTED_SHOWN = 20;

function showText(io: Io, r: RunRecord): string {
  const out: string[] = [];
  const field = (k: string, v: string) => out.push(`${(k + ':').padEnd(10)}${v}`);
  field('run', r.id);
  field('pipeline', r.pipeline);
  field('status', io.color ? paint[STATUS_STYLE[r.status]](r.status) : r.status);
  field('started', formatTime(r.startTime));
  field('ended', r.endTime === null ? '-' : `${formatTime(r.endTime)} (${formatDuration(r.startTime, r.endTime)})`);
  if (r.error) field('error', r.error);
  if (r.git.commit) {
    const state = r.git.dirty ? `dirty, ${r.git.uncommitted.length} uncommitted file${r.git.uncommitted.length === 1 ? '' : 's'}, changes sha256 ${r.git.diffHash?.slice(0, 12)}` : 'clean';
    field('git', `${r.git.commit} on ${r.git.branch ?? '(detached HEAD)'} (${state})`);
    const shown = r.git.uncommitted.slice(0, UNCOMMITTED_SHOWN);
    const mark = { modified: 'M', added: 'A', deleted: 'D', untracked: '?' } as const;
    // The blob id is git's (`git hash-object`), so that two dirty runs can be told apart file by file.
    for (const f of shown) out.push(`${' '.repeat(12)}${mark[f.status]} ${(f.blob?.slice(0, 12) ?? '-').padEnd(12)}  ${f.path}`);
    if (r.git.uncommitted.length > shown.length) out.push(`${' '.repeat(12)}… and ${r.git.uncommitted.length - shown.length} more (--json lists them all)`);
  } else {
    field('git', 'not stamped (no git commit)');
  }
  field('command', r.command.join(' ') || '-');
  field('versions', `kiln ${r.versions.kiln || '-'}, node ${r.versions.node || '-'}, tfjs ${r.versions.tfjs ?? '-'}, backend ${r.backend ?? '-'}`);
  field('host', `${r.host.hostname} (pid ${r.host.pid})`);
  let text = out.join('\n') + '\n';

  const section = (title: string, headers: string[], rows: CellInput[][]) => {
    text += `\n${heading(io, title)}\n`;
    text += rows.length ? table(io, headers, rows, '  ') : '  (none)\n';
  };
  section('Parameters', ['KEY', 'VALUE'], Object.entries(r.params).map(([k, v]) => [k, formatValue(v)]));
  section(
    'Metrics',
    ['KEY', 'LATEST', 'STEP', 'POINTS'],
    Object.entries(r.metrics).map(([k, m]) => [k, { text: formatNumber(m.value), align: 'right' as const }, { text: String(m.step), align: 'right' as const }, { text: String(m.historyLength), align: 'right' as const }]),
  );
  section(
    'Nodes',
    ['NODE', 'STATUS', 'DURATION', 'CACHE', 'FINGERPRINT'],
    r.nodes.map((n) => [
      n.node,
      { text: n.status, style: STATUS_STYLE[n.status] },
      { text: formatDuration(n.startTime, n.endTime), align: 'right' as const },
      n.cacheHit ? { text: 'hit', style: 'green' as Style } : '-',
      n.fingerprint ? n.fingerprint.slice(0, 12) : '-',
    ]),
  );
  section('Files', ['NAME', 'SIZE', 'OBJECT'], r.files.map((f) => [f.name, { text: formatBytes(f.size), align: 'right' as const }, f.object.slice(0, 12)]));
  if (r.files.length) text += `  (kiln runs get ${r.id} <name> writes one out)\n`;
  if (Object.keys(r.tags).length) section('Tags', ['KEY', 'VALUE'], Object.entries(r.tags).map(([k, v]) => [k, v]));
  return text;
}

function compareText(io: Io, c: RunComparison, shortA: string, shortB: string): string {
  let text = `${heading(io, 'Parameters')}\n`;
  text += c.params.length
    ? table(io, ['KEY', shortA, shortB, ''], c.params.map((p) => [p.key, formatValue(p.a), formatValue(p.b), p.changed ? { text: 'changed', style: 'yellow' as Style } : '']), '  ')
    : '  (none)\n';
  text += `\n${heading(io, 'Metrics')}\n`;
  const delta = (d: number | null, rel: number | null): Cell => {
    if (d === null) return { text: '-', align: 'right' };
    const sign = d > 0 ? '+' : '';
    const pct = rel === null ? '' : ` (${rel > 0 ? '+' : ''}${(rel * 100).toFixed(1)}%)`;
    return { text: `${sign}${formatNumber(d)}${pct}`, align: 'right', style: d === 0 ? undefined : 'cyan' };
  };
  text += c.metrics.length
    ? table(
        io,
        ['KEY', shortA, shortB, 'DELTA'],
        c.metrics.map((m) => [m.key, { text: formatNumber(m.a), align: 'right' as const }, { text: formatNumber(m.b), align: 'right' as const }, delta(m.delta, m.relative)]),
        '  ',
      )
    : '  (none)\n';
  return text;
}

/** Runs a command body: closes the store, and turns failures into diagnostics (as JSON with --json). */
function action(io: Io, setExit: (code: number | Promise<number>) => void, opts: Common, body: (tracking: Tracking | null) => Promise<void>, objects = false): void {
  setExit(
    (async () => {
      let tracking: Tracking | null = null;
      try {
        tracking = await openExisting(io, opts, objects);
        await body(tracking);
        return EXIT_OK;
      } catch (e) {
        return handleFailure(io, e, opts.json);
      } finally {
        tracking?.close();
      }
    })(),
  );
}

function notFound(io: Io, opts: Common, id: string): KilnError {
  return new KilnError(diag('KILN4002', { id, store: storeDirOf(io, opts) }));
}

function withCommon(c: Command): Command {
  return c.option('--project <dir>', 'project folder; the run store is the one its kiln.yaml names (<dir>/.kiln by default)', '.').option('--json', 'print JSON instead of tables');
}

export const runsCommand: CommandModule = {
  register(program, io, setExit) {
    const runs = program.command('runs').description('list, show, compare, search and delete tracked runs, and get the files they logged');

    withCommon(runs.command('list').description('list runs, newest first'))
      .option('--pipeline <name>', 'only runs of this pipeline')
      .option('--status <status>', 'only runs with this status (RUNNING, FINISHED, FAILED, KILLED)')
      .option('--limit <n>', 'at most this many runs', parseLimit, 20)
      .action((opts: Common & { pipeline?: string; status?: string; limit: number }) =>
        action(io, setExit, opts, async (t) => {
          const list = t ? await t.runs.listRuns({ pipeline: opts.pipeline, status: opts.status?.toUpperCase() as RunStatus | undefined, limit: opts.limit }) : [];
          await listOutput(io, t, list, opts.json);
        }),
      );

    withCommon(runs.command('show').description('show one run: parameters, metrics, nodes, git state, files').argument('<id>', 'run id or a unique prefix of it')).action(
      (id: string, opts: Common) =>
        action(io, setExit, opts, async (t) => {
          if (!t) throw notFound(io, opts, id);
          const run = await t.runs.getRun(id);
          io.out(opts.json ? JSON.stringify(run, null, 2) + '\n' : showText(io, run));
        }),
    );

    withCommon(
      runs
        .command('get')
        .description('write out a file the run logged (training curves, for one): kiln runs show lists them')
        .argument('<id>', 'run id or a unique prefix of it')
        .argument('<file>', 'the file name, as kiln runs show lists it'),
    )
      .option('--out <path>', "where to write it (a file, or a folder to put it in); the file's own name in the current folder by default")
      .action((id: string, file: string, opts: Common & { out?: string }) =>
        action(io, setExit, opts, async (t) => {
          if (!t) throw notFound(io, opts, id);
          const written = await getRunFile(t, io.cwd, id, file, opts.out);
          io.out(opts.json ? JSON.stringify({ file, path: written }, null, 2) + '\n' : `wrote ${displayPath(io, written)}\n`);
          // A file of a run recorded on another machine comes from the objects repository.
        }, true),
      );

    withCommon(runs.command('compare').description('parameters and metrics of two runs side by side').argument('<a>', 'first run').argument('<b>', 'second run')).action(
      (a: string, b: string, opts: Common) =>
        action(io, setExit, opts, async (t) => {
          if (!t) throw notFound(io, opts, a);
          const [ra, rb] = [await t.runs.getRun(a), await t.runs.getRun(b)];
          const c = compareRuns(ra, rb);
          if (opts.json) {
            io.out(JSON.stringify(c, null, 2) + '\n');
            return;
          }
          const short = await t.runs.shortIds([ra.id, rb.id]);
          io.out(compareText(io, c, short.get(ra.id)!, short.get(rb.id)!));
        }),
    );

    withCommon(
      runs
        .command('search')
        .description("runs matching a filter, e.g. \"metrics.accuracy > 0.9 and params.seed = 1 and tags.branch = 'main'\"")
        .argument('<filter>', 'the filter'),
    )
      .option('--limit <n>', 'at most this many runs', parseLimit, 100)
      .action((filter: string, opts: Common & { limit: number }) =>
        action(io, setExit, opts, async (t) => {
          // Checked even without a store, so that a typo is reported rather than answered with "No runs".
          filterToSql(filter);
          const list = t ? await t.runs.searchRuns(filter, { limit: opts.limit }) : [];
          await listOutput(io, t, list, opts.json);
        }),
      );

    addRunsDeleteCommand(runs, io, setExit);
    addRunsKillCommand(runs, io, setExit);
  },
};
