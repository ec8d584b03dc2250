// The run a report compares with at the base commit: main as committed there. A run started with --params, a pinned
// dataset version or a node filter is an experiment on that commit, and a pull request measured against it would be
// judged against numbers main never had (with a shared run store, anyone's experiment on main's commit is there).
import type { Tracking } from '../tracking/index.ts';
import type { RunInvocation, RunRecord } from '../tracking/store.ts';
import { FILTER_FLAGS } from './overrides.ts';

/** How `inv` departs from running the commit as declared, in words (empty: it does not). */
export function invocationDepartures(inv: RunInvocation | null): string[] {
  if (!inv) return [];
  const out: string[] = [];
  const params = Object.entries(inv.params);
  if (params.length) out.push(`--params ${params.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}`);
  const pins = Object.entries(inv.loadVersions);
  if (pins.length) out.push(`--load-version ${pins.map(([d, v]) => `${d}:${v}`).join(',')}`);
  for (const [k, v] of Object.entries(inv.filter)) out.push(`${FILTER_FLAGS[k] ?? k} ${v.join(',')}`);
  return out;
}

export interface BaseRunChoice {
  run: RunRecord | null;
  /** The newest FINISHED run at the commit that was passed over for its departures, when no run qualified. */
  passedOver: { run: RunRecord; departures: string[] } | null;
}

/**
 * The newest FINISHED run of `pipeline` at `commit` from a clean tree, started without departures (with none, the
 * newest run passed over, for the warning). A run recorded
 * without its invocation (through the API, or by a kiln before 0.2) is taken as it is: nothing says it departs.
 */
export async function baseRunAt(tracking: Tracking | null, pipeline: string, commit: string): Promise<BaseRunChoice> {
  if (!tracking) return { run: null, passedOver: null };
  let passedOver: BaseRunChoice['passedOver'] = null;
  for (const summary of await tracking.runs.finishedRuns(pipeline, commit, { clean: true, limit: 50 })) {
    const run = await tracking.runs.getRun(summary.id);
    const departures = invocationDepartures(run.invocation);
    if (!departures.length) return { run, passedOver: null };
    passedOver ??= { run, departures };
  }
  if (!passedOver) {
    const dirty = await tracking.runs.latestFinishedRun(pipeline, commit);
    if (dirty) passedOver = { run: await tracking.runs.getRun(dirty.id), departures: ['uncommitted changes'] };
  }
  return { run: null, passedOver };
}
