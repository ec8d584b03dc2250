// The JSON API of kiln ui: one function from a GET path and query to an answer, used by the live server and by the
// static export alike, so both show the same data. User mistakes answer with their diagnostics, never a trace.
import { didYouMean, diag, isKilnError, KilnError, toJson, type DiagnosticJson } from '../diagnostics/index.ts';
import { RUN_STATUSES, type ModelRegistry, type RunStatus, type RunStore } from '../tracking/index.ts';
import { previewDataset } from './dataset-preview.ts';
import { datasetTypes } from './dataset-types.ts';
import { modelsView, ociModelsView } from './models-view.ts';
import { isOciReference } from '../oci/reference.ts';
import { projectView, type AnalyzedView } from './project-view.ts';
import { compareMany, runDetail, runsPage } from './runs-view.ts';

/** The stores the UI reads, opened when they exist (a project with no runs yet has none). */
export interface UiStores {
  runs: RunStore;
  registry: ModelRegistry;
}

export interface UiSource {
  /** The project folder (kiln.yaml). */
  root: string;
  /** The stores, or null while the project has none. */
  stores(): UiStores | null | Promise<UiStores | null>;
  /** The analysed declarations; each request analyses them afresh unless given (the static export reads them once). */
  project?: () => Promise<AnalyzedView>;
}

export type ApiAnswer = { status: number; json: unknown } | { status: number; bytes: Buffer; contentType: string };

/** HTTP status of the user mistakes the API answers with. */
const STATUS: Record<string, number> = {
  KILN4002: 404,
  KILN4003: 400,
  KILN4005: 400,
  KILN4006: 400,
  KILN4012: 404,
  KILN4030: 404,
  KILN8003: 403,
  KILN8004: 404,
  KILN8005: 404,
  KILN8006: 422,
  KILN8008: 404,
  KILN8010: 400,
};

export function diagnosticsAnswer(list: DiagnosticJson[]): ApiAnswer {
  return { status: STATUS[list[0]?.code ?? ''] ?? 400, json: { diagnostics: list } };
}

/** Files a run logged are served with the types a browser shows safely; anything else downloads as bytes. */
const FILE_TYPES: Record<string, string> = { svg: 'image/svg+xml', png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', txt: 'text/plain; charset=utf-8', log: 'text/plain; charset=utf-8', json: 'application/json', csv: 'text/plain; charset=utf-8' };

function intParam(q: URLSearchParams, name: string, dflt: number, max: number): number {
  const v = q.get(name);
  if (v === null || v === '') return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0 || n > max) throw new KilnError(diag('KILN8010', { name, value: v, reason: `expected a whole number from 0 to ${max}`, fix: `For example ${name}=${dflt}.` }));
  return n;
}

function statusParam(q: URLSearchParams): RunStatus | undefined {
  const v = q.get('status');
  if (!v) return undefined;
  const s = v.toUpperCase() as RunStatus;
  if (!RUN_STATUSES.includes(s)) throw new KilnError(diag('KILN8010', { name: 'status', value: v, reason: `not a run status.${didYouMean(s, RUN_STATUSES)}`, fix: `One of ${RUN_STATUSES.join(', ')}.` }));
  return s;
}

function noStore(what: string): KilnError {
  return new KilnError(diag('KILN4002', { id: what }));
}

async function route(src: UiSource, pathname: string, q: URLSearchParams): Promise<ApiAnswer> {
  // Segments decoded one by one: an encoded slash stays inside its segment (a run id or file name), never a path.
  const parts = pathname.split('/').filter(Boolean).map((p) => decodeURIComponent(p));
  const stores = await src.stores();
  const [, what, id, sub, ...rest] = parts;
  const analysed = () => (src.project ? src.project() : projectView(src.root));
  if (parts[0] !== 'api') throw new KilnError(diag('KILN8008', { path: pathname }));
  if (what === 'project' && !id) return { status: 200, json: (await analysed()).view };
  if (what === 'types' && !id) {
    const { ir } = await analysed();
    return { status: 200, json: ir ? datasetTypes(ir.settings) : { types: {}, missing: 'the declarations do not compile: run kiln validate' } };
  }
  if (what === 'datasets' && id && sub === 'preview' && rest.length === 0) {
    const { ir, view } = await analysed();
    if (!ir) return { status: 200, json: { diagnostics: view.diagnostics, fix: view.fix } };
    return { status: 200, json: previewDataset(ir, id, intParam(q, 'rows', 20, 200)) };
  }
  if (what === 'runs' && !id) {
    const page = await runsPage(stores?.runs ?? null, {
      filter: q.get('filter') || undefined,
      pipeline: q.get('pipeline') || undefined,
      status: statusParam(q),
      offset: intParam(q, 'offset', 0, 10_000_000),
      limit: intParam(q, 'limit', 50, 10_000),
      sort: q.get('sort') || undefined,
    });
    return { status: 200, json: { ...page, store: stores !== null } };
  }
  if (what === 'runs' && id && !sub) {
    if (!stores) throw noStore(id);
    return { status: 200, json: await runDetail(stores.runs, id) };
  }
  if (what === 'runs' && id && sub === 'files' && rest.length > 0) {
    if (!stores) throw noStore(id);
    const run = await stores.runs.getRun(id);
    // The name is looked up among the run's files, never joined onto a path: 'a/../b' is just a name that is not there.
    const name = rest.join('/');
    const file = run.files.find((f) => f.name === name);
    if (!file) {
      const names = run.files.map((f) => f.name);
      throw new KilnError(diag('KILN4030', { run: run.id, name, suggestion: didYouMean(name, names), available: names.join(', ') || '(none)' }));
    }
    const ext = name.slice(name.lastIndexOf('.') + 1).toLowerCase();
    return { status: 200, bytes: await stores.runs.objects.getBytes(file.object), contentType: FILE_TYPES[ext] ?? 'application/octet-stream' };
  }
  if (what === 'compare' && !id) {
    const ids = (q.get('ids') ?? '').split(',').filter(Boolean);
    if (!stores) throw noStore(ids[0] ?? '');
    return { status: 200, json: await compareMany(stores.runs, ids) };
  }
  if (what === 'models' && !id) {
    const { view, ir } = await analysed();
    const target = ir?.settings.publish.target ?? null;
    if (target !== null && isOciReference(target)) {
      const declared = Object.values(ir!.pipelines).flatMap((p) => (p.model ? [p.model.name] : []));
      return { status: 200, json: { models: await ociModelsView(target, declared, stores?.runs ?? null, view.graph), store: stores !== null, registry: target } };
    }
    return { status: 200, json: { models: await modelsView(stores?.registry ?? null, stores?.runs ?? null, view.graph), store: stores !== null } };
  }
  if (what === 'plan' && !id) {
    const { planProject, PlanError } = await import('../gitops/plan.ts');
    try {
      const base = q.get('base') || undefined;
      const head = q.get('head') || undefined;
      return { status: 200, json: { plan: await planProject({ root: src.root, ...(base ? { base } : {}), ...(head ? { head } : {}) }) } };
    } catch (e) {
      // A plan that cannot be made (no git, an unknown revision, a side that does not compile) is shown, not failed.
      if (e instanceof PlanError || isKilnError(e)) return { status: 200, json: { plan: null, diagnostics: e.diagnostics.map(toJson), fix: 'kiln plan' } };
      throw e;
    }
  }
  throw new KilnError(diag('KILN8008', { path: pathname }));
}

export async function answer(src: UiSource, pathname: string, q: URLSearchParams): Promise<ApiAnswer> {
  try {
    return await route(src, pathname, q);
  } catch (e) {
    if (isKilnError(e)) return diagnosticsAnswer(e.diagnostics.map(toJson));
    if (e instanceof URIError) return diagnosticsAnswer([toJson(diag('KILN8008', { path: pathname }))]);
    const err = e instanceof Error ? e : new Error(String(e));
    return { status: 500, json: { error: `internal error: ${err.message}. This is a bug in kiln, not in your project; please report it with the page you opened.` } };
  }
}
