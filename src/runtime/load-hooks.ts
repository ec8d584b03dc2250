// Loading the hooks named in kiln.yaml: '<file>#<export>', an object (or class) with some of the Hooks methods.
import path from 'node:path';
import { diag, KilnError } from '../diagnostics/diagnostic.ts';
import type { ProjectSettings } from '../ir/types.ts';
import type { Hooks } from './hooks.ts';
import { importProjectModule } from './project-module.ts';

const HOOK_METHODS = ['beforePipelineRun', 'afterPipelineRun', 'beforeNodeRun', 'afterNodeRun', 'onNodeError', 'beforeDatasetLoaded', 'afterDatasetLoaded', 'beforeDatasetSaved', 'afterDatasetSaved'];

export async function loadHooks(settings: ProjectSettings): Promise<Hooks[]> {
  const out: Hooks[] = [];
  for (const h of settings.hooks) {
    const ref = `./${h.module}#${h.export}`;
    let mod: Record<string, unknown>;
    try {
      mod = (await importProjectModule(path.join(settings.root, h.module))) as Record<string, unknown>;
    } catch (e) {
      throw new KilnError(diag('KILN3009', { ref, problem: `the module cannot be loaded (${(e as Error).message.split('\n')[0]})` }, h.location));
    }
    let value = mod[h.export];
    if (value === undefined) throw new KilnError(diag('KILN3009', { ref, problem: `the module has no export '${h.export}'` }, h.location));
    if (typeof value === 'function') {
      try {
        value = new (value as new () => unknown)();
      } catch (e) {
        throw new KilnError(diag('KILN3009', { ref, problem: `constructing it failed (${(e as Error).message})` }, h.location));
      }
    }
    if (value === null || typeof value !== 'object' || !HOOK_METHODS.some((m) => typeof (value as Record<string, unknown>)[m] === 'function')) {
      throw new KilnError(diag('KILN3009', { ref, problem: 'it has none of the hook methods' }, h.location));
    }
    out.push(wrap(ref, value as Hooks));
  }
  return out;
}

/** A user hook that throws fails the run with a diagnostic naming the hook, not with a raw stack. */
function wrap(ref: string, hooks: Hooks): Hooks {
  const out: Hooks = {};
  for (const m of HOOK_METHODS as Array<keyof Hooks>) {
    const fn = hooks[m] as ((e: unknown) => unknown) | undefined;
    if (typeof fn !== 'function') continue;
    (out as Record<string, unknown>)[m] = async (e: unknown) => {
      try {
        await fn.call(hooks, e);
      } catch (err) {
        throw new KilnError(diag('KILN3011', { hook: m, ref, error: (err as Error)?.message ?? String(err) }));
      }
    };
  }
  return out;
}
