// `kiln ui build --out DIR`: the views of kiln ui as a static site, for a pull request's CI artifact or GitHub Pages.
// The data is what the live API answers (the same function), baked into data.js; the app reads it instead of
// fetching, so the site opens from file:// or any static server. The folder is written aside and renamed into
// place: a reader never sees half a site.
import fs from 'node:fs';
import path from 'node:path';
import { diag, KilnError } from '../diagnostics/index.ts';
import { answer, type UiSource } from './api.ts';
import { loadAssets } from './assets.ts';
import { projectStores } from './stores.ts';
import { projectView } from './project-view.ts';
import { CONTENT_SECURITY_POLICY } from './server.ts';

/** Marks a folder as one kiln ui build wrote, so that a later build may replace it (and nothing else). */
export const EXPORT_MARK = 'kiln-ui.json';
/** Runs whose detail pages are baked (newest first); the table lists up to ROWS runs (the app's RUNS_BAKED query). */
const DETAILS = 500;
const ROWS = 5000;

export interface ExportOptions {
  root: string;
  out: string;
  base?: string;
}

function checkOut(out: string): void {
  let entries: string[];
  try {
    entries = fs.readdirSync(out);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    throw new KilnError(diag('KILN8007', { dir: out, reason: code === 'ENOTDIR' ? 'it is a file' : (e as Error).message }));
  }
  if (entries.length && !entries.includes(EXPORT_MARK)) throw new KilnError(diag('KILN8007', { dir: out, reason: `it holds other files (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''})` }));
}

/** Every answer the views ask for, by the API path and query the live app would fetch. */
async function bake(src: UiSource, base: string | undefined): Promise<Record<string, unknown>> {
  const data: Record<string, unknown> = {};
  // `as`: the key the app asks for, when the query made here is not one the app sends (the plan's --base).
  const get = async (p: string, q = '', as?: string) => {
    const a = await answer(src, p, new URLSearchParams(q));
    const value = 'json' in a ? { status: a.status, json: a.json } : { status: a.status, json: null };
    data[as ?? (q ? `${p}?${q}` : p)] = value;
    return value;
  };
  const project = (await get('/api/project')).json as { graph: { datasets: Record<string, { type: string; path: string | null }> } | null };
  await get('/api/types');
  await get('/api/models');
  await get('/api/plan', base ? `base=${encodeURIComponent(base)}` : '', '/api/plan');
  for (const [name, d] of Object.entries(project.graph?.datasets ?? {})) {
    if (d.path && ['jsonl', 'csv', 'json'].includes(d.type)) await get(`/api/datasets/${encodeURIComponent(name)}/preview`);
  }
  const runs = (await get('/api/runs', `limit=${ROWS}`)).json as { runs?: Array<{ id: string }> };
  for (const r of (runs.runs ?? []).slice(0, DETAILS)) await get(`/api/runs/${r.id}`);
  return data;
}

export async function exportSite(opts: ExportOptions): Promise<{ out: string; files: number }> {
  checkOut(opts.out);
  const assets = loadAssets();
  const stores = projectStores(opts.root);
  let data: Record<string, unknown>;
  try {
    // One analysis for the whole export: the declarations do not change while it is written.
    let project: ReturnType<typeof projectView> | undefined;
    data = await bake({ root: opts.root, stores: () => stores.stores(), project: () => (project ??= projectView(opts.root)) }, opts.base);
  } finally {
    stores.close();
  }
  const next = `${opts.out}.next-${process.pid}`;
  fs.rmSync(next, { recursive: true, force: true });
  fs.mkdirSync(next, { recursive: true });
  try {
    const html = assets
      .get('index.html')!
      .bytes.toString('utf8')
      // The page says its own policy: a static server sends no header.
      .replace('<head>', `<head>\n<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY.replace("; frame-ancestors 'none'", '')}">`)
      .replace('<script src="app.js"', '<script src="data.js"></script>\n<script src="app.js"');
    fs.writeFileSync(path.join(next, 'index.html'), html);
    fs.writeFileSync(path.join(next, 'app.js'), assets.get('app.js')!.bytes);
    fs.writeFileSync(path.join(next, 'app.css'), assets.get('app.css')!.bytes);
    // A script, not inline JSON: the policy allows scripts from files only, and file:// pages cannot fetch.
    fs.writeFileSync(path.join(next, 'data.js'), `window.KILN_UI_DATA = ${JSON.stringify(data)};\n`);
    fs.writeFileSync(path.join(next, EXPORT_MARK), JSON.stringify({ generator: 'kiln ui build', answers: Object.keys(data).length }, null, 2) + '\n');
    const old = `${opts.out}.old-${process.pid}`;
    if (fs.existsSync(opts.out)) fs.renameSync(opts.out, old);
    fs.renameSync(next, opts.out);
    fs.rmSync(old, { recursive: true, force: true });
  } finally {
    fs.rmSync(next, { recursive: true, force: true });
  }
  return { out: opts.out, files: 5 };
}
