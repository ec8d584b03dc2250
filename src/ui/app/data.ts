// Where the views get their data: the live server's JSON API, or, in a static export, the same answers baked into
// data.js (window.KILN_UI_DATA), keyed by the API path and query the live app would fetch.
export interface Answer<T> {
  status: number;
  json: T;
}

declare global {
  interface Window {
    KILN_UI_DATA?: Record<string, Answer<unknown>>;
  }
}

export const baked = window.KILN_UI_DATA ?? null;
export const isStatic = baked !== null;

export function key(path: string, query: Record<string, string | number | undefined> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

export async function api<T>(path: string, query: Record<string, string | number | undefined> = {}): Promise<Answer<T>> {
  const k = key(path, query);
  if (baked) {
    const a = baked[k] ?? (path === '/api/runs' ? bakedRuns(query) : undefined);
    if (a) return a as Answer<T>;
    return { status: 404, json: { diagnostics: [{ code: 'static', severity: 'error', file: null, line: null, column: null, message: 'this page is not part of the static export', hint: 'Run kiln ui in the project to see it live.' }] } as T };
  }
  try {
    const res = await fetch(k.slice(1));
    const json = (await res.json()) as T;
    return { status: res.status, json };
  } catch (e) {
    // The server was stopped (or restarted) under an open page: every view says so instead of failing silently.
    const message = `the kiln ui server cannot be reached (${e instanceof Error ? e.message : String(e)})`;
    return { status: 0, json: { diagnostics: [{ code: 'unreachable', severity: 'error', file: null, line: null, column: null, message, hint: 'Start it again in the project: kiln ui' }] } as T };
  }
}

/** The export bakes every run row once ({@link RUNS_BAKED}); other pages of the table are cut from it. */
export const RUNS_BAKED = '/api/runs?limit=5000';

function bakedRuns(query: Record<string, string | number | undefined>): Answer<unknown> | undefined {
  const all = baked?.[RUNS_BAKED] as Answer<{ runs: Array<{ status: string; pipeline: string }>; total: number }> | undefined;
  if (!all || all.status !== 200) return all;
  const offset = Number(query.offset ?? 0);
  const limit = Number(query.limit ?? 50);
  const runs = all.json.runs.filter((r) => (!query.status || r.status === query.status) && (!query.pipeline || r.pipeline === query.pipeline));
  return { status: 200, json: { ...all.json, total: runs.length, offset, limit, runs: runs.slice(offset, offset + limit) } };
}

export interface DiagnosticJson {
  code: string;
  severity: string;
  file: string | null;
  line: number | null;
  column: number | null;
  message: string;
  hint: string | null;
}
