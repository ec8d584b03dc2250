// kiln ui in the browser: a header with the views, a hash router (#/graph, #/runs, #/run/<id>, #/compare/<a>,<b>,
// #/models, #/plan), light and dark themes, and keyboard shortcuts (g r m p for the views, / for search).
import './style.css';
import type { ProjectView } from '../project-view.ts';
import { el, replace } from './dom.ts';
import { api, isStatic } from './data.ts';
import { graphView } from './graph-view.ts';
import { runsView } from './runs-view.ts';
import { runView } from './run-view.ts';
import { compareView } from './compare-view.ts';
import { modelsView } from './models-view.ts';
import { planView } from './plan-view.ts';
import { failed, missing, problems } from './problems.ts';

const VIEWS: Array<[string, string, string]> = [
  ['graph', 'Pipeline', 'g'],
  ['runs', 'Runs', 'r'],
  ['models', 'Models', 'm'],
  ['plan', 'Plan', 'p'],
];

const main = el('main', { id: 'main', tabindex: -1 });
const live = el('span', { class: 'live-indicator', role: 'status', 'aria-live': 'polite' });

function theme(t: string): void {
  document.documentElement.dataset.theme = t;
  try {
    localStorage.setItem('kiln-ui-theme', t);
  } catch {
    // file:// pages may have no storage: the theme lasts for the page.
  }
}

async function graphPage(): Promise<HTMLElement> {
  const a = await api<ProjectView>('/api/project');
  if (a.status !== 200) return failed('The project cannot be read', a.json);
  const v = a.json;
  if (!v.ok || !v.graph) return problems('The declarations do not compile', v.diagnostics, v.fix ?? 'kiln validate');
  if (!v.graph.pipelines.length) return missing('This project declares no pipeline yet.', 'kiln init');
  return el('div', {}, el('h1', {}, `Project ${v.graph.project}`), graphView(v.graph));
}

async function route(): Promise<void> {
  const [view, arg] = location.hash.replace(/^#\/?/, '').split('/');
  for (const a of document.querySelectorAll('header nav a')) a.setAttribute('aria-current', a.getAttribute('href') === `#/${view || 'graph'}` ? 'page' : 'false');
  replace(main, el('p', { class: 'muted' }, 'Loading…'));
  let page: HTMLElement;
  try {
    if (view === 'runs') page = runsView();
    else if (view === 'run' && arg) page = runView(decodeURIComponent(arg));
    else if (view === 'compare' && arg) page = compareView(decodeURIComponent(arg).split(','));
    else if (view === 'models') page = modelsView();
    else if (view === 'plan') page = planView();
    else page = await graphPage();
  } catch (e) {
    page = el('section', { class: 'problems', role: 'alert' }, el('h2', {}, 'This view failed'), el('p', {}, String(e)));
  }
  replace(main, page);
  document.body.dataset.view = view || 'graph';
}

/** The header says when a run is in progress, and links to it. */
async function pollLive(): Promise<void> {
  if (isStatic) return;
  try {
    const a = await api<{ runs: Array<{ id: string; shortId: string; pipeline: string }> }>('/api/runs', { status: 'RUNNING', limit: 5 });
    if (a.status === 0) {
      replace(live, 'server unreachable');
      setTimeout(() => void pollLive(), 3000);
      return;
    }
    const runs = a.status === 200 ? a.json.runs : [];
    replace(live, runs.length ? el('a', { href: `#/run/${runs[0].id}` }, `● ${runs.length} running (${runs[0].pipeline} ${runs[0].shortId})`) : '');
  } catch {
    replace(live, 'server unreachable');
  }
  setTimeout(() => void pollLive(), 3000);
}

function start(): void {
  let stored: string | null = null;
  try {
    stored = localStorage.getItem('kiln-ui-theme');
  } catch {
    stored = null;
  }
  theme(stored ?? (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'));
  const header = el(
    'header',
    {},
    el('a', { href: '#main', class: 'skip' }, 'Skip to content'),
    el('strong', { class: 'brand' }, 'kiln ui'),
    el('nav', { 'aria-label': 'views' }, VIEWS.map(([id, label, keyName]) => el('a', { href: `#/${id}`, 'aria-keyshortcuts': keyName, title: `${label} (${keyName})` }, label))),
    isStatic ? el('span', { class: 'muted' }, 'static export') : live,
    el('button', { type: 'button', class: 'theme', 'aria-label': 'switch light and dark theme', on: { click: () => theme(document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark') } }, '◐ theme'),
  );
  document.body.append(header, main);
  document.addEventListener('keydown', (e) => {
    const t = e.target as HTMLElement;
    if (e.ctrlKey || e.metaKey || e.altKey || /^(INPUT|SELECT|TEXTAREA)$/.test(t.tagName)) return;
    const v = VIEWS.find(([, , k]) => k === e.key);
    if (v) location.hash = `#/${v[0]}`;
    else if (e.key === '/') {
      const search = document.querySelector<HTMLInputElement>('#graph-search, #runs-filter');
      if (search) {
        e.preventDefault();
        search.focus();
      }
    }
  });
  window.addEventListener('hashchange', () => void route());
  void route();
  void pollLive();
}

start();
