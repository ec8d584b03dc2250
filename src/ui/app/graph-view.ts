// The pipeline graph: nodes and datasets laid out as a DAG, namespaces collapsible, filter by tag or namespace,
// search, focus on a node's neighbourhood, the model's inference subgraph highlighted, and a side panel with the
// node's function, its inputs and outputs with their inferred TypeScript types, or a dataset's schema and first rows.
import type { UiGraph, UiNode, UiPipeline } from '../graph.ts';
import { el, svg, replace, text, table, formatDuration } from './dom.ts';
import { layoutGraph, type Vertex, type Layout } from './layout.ts';
import { api } from './data.ts';
import { failed } from './problems.ts';

/** What a plan marks on the graph. */
export interface GraphMarks {
  added: Set<string>;
  changed: Set<string>;
  rerun: Set<string>;
  /** Reasons per re-run node, for the side panel. */
  reasons: Map<string, string>;
}

interface State {
  pipeline: UiPipeline;
  collapsed: Set<string>;
  tag: string;
  namespace: string;
  search: string;
  focus: string | null;
  selected: string | null;
  /** Datasets as vertices; without, an edge goes from the node writing a dataset to each node reading it. */
  datasets: boolean;
}

let typesCache: Promise<Record<string, string>> | null = null;
function datasetTypes(): Promise<Record<string, string>> {
  typesCache ??= api<{ types: Record<string, string> }>('/api/types').then((a) => (a.status === 200 ? a.json.types : {}));
  return typesCache;
}

/** Pipelines with more nodes than this open with their namespaces collapsed. */
const COLLAPSE_ABOVE = 300;

const nodeId = (n: string) => `n:${n}`;
const dataId = (d: string) => `d:${d}`;
const nsId = (n: string) => `ns:${n}`;

/** The vertices and edges shown for the current filters, namespaces collapsed into one vertex each. */
function visibleGraph(s: State): { vertices: Vertex[]; edges: Array<{ from: string; to: string }> } {
  let nodes = s.pipeline.nodes;
  if (s.tag) nodes = nodes.filter((n) => n.tags.includes(s.tag));
  if (s.namespace) nodes = nodes.filter((n) => (n.namespace ?? '') === s.namespace);
  if (s.focus) {
    const f = s.pipeline.nodes.find((n) => n.name === s.focus);
    if (f) {
      const touching = new Set([...f.inputs, ...f.outputs].map((b) => b.dataset));
      nodes = nodes.filter((n) => n.name === f.name || [...n.inputs, ...n.outputs].some((b) => touching.has(b.dataset)));
    }
  }
  const vertexOf = (n: UiNode) => (n.namespace && s.collapsed.has(n.namespace) ? nsId(n.namespace) : nodeId(n.name));
  // A dataset read and written only inside one collapsed namespace is part of it, not drawn.
  const touching = new Map<string, Set<string>>();
  for (const n of nodes) for (const b of [...n.inputs, ...n.outputs]) touching.set(b.dataset, (touching.get(b.dataset) ?? new Set()).add(vertexOf(n)));
  const hidden = (d: string) => {
    const v = touching.get(d);
    return !!v && v.size === 1 && [...v][0].startsWith('ns:');
  };
  const vertices = new Map<string, Vertex>();
  const edges = new Map<string, { from: string; to: string }>();
  if (!s.datasets) {
    const producer = new Map<string, string>();
    for (const n of nodes) for (const b of n.outputs) producer.set(b.dataset, vertexOf(n));
    for (const n of nodes) {
      const v = vertexOf(n);
      if (!vertices.has(v)) vertices.set(v, v.startsWith('ns:') ? { id: v, label: `${n.namespace} ▸`, kind: 'namespace' } : { id: v, label: n.name, kind: 'node' });
      for (const b of n.inputs) {
        const from = producer.get(b.dataset);
        if (from && from !== v) edges.set(`${from}>${v}`, { from, to: v });
      }
    }
    return { vertices: [...vertices.values()], edges: [...edges.values()] };
  }
  for (const n of nodes) {
    const v = vertexOf(n);
    if (!vertices.has(v)) vertices.set(v, v.startsWith('ns:') ? { id: v, label: `${n.namespace} ▸`, kind: 'namespace' } : { id: v, label: n.name, kind: 'node' });
    for (const b of n.inputs) {
      if (b.dataset.startsWith('params:') || hidden(b.dataset)) continue;
      vertices.set(dataId(b.dataset), { id: dataId(b.dataset), label: b.dataset, kind: 'dataset' });
      edges.set(`${b.dataset}>${v}`, { from: dataId(b.dataset), to: v });
    }
    for (const b of n.outputs) {
      if (hidden(b.dataset)) continue;
      vertices.set(dataId(b.dataset), { id: dataId(b.dataset), label: b.dataset, kind: 'dataset' });
      edges.set(`${v}>${b.dataset}`, { from: v, to: dataId(b.dataset) });
    }
  }
  return { vertices: [...vertices.values()], edges: [...edges.values()] };
}

function edgePath(points: Array<{ x: number; y: number }>): string {
  return points.map((p, i) => `${i ? 'L' : 'M'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
}

function drawGraph(layout: Layout, s: State, graph: UiGraph, marks: GraphMarks | undefined, select: (id: string) => void): SVGSVGElement {
  const model = s.pipeline.model;
  const inference = new Set(model ? [...model.nodes.map(nodeId), dataId(model.input), dataId(model.output)] : []);
  const query = s.search.trim().toLowerCase();
  const root = svg('svg', { class: 'graph', viewBox: `0 0 ${Math.max(layout.width, 100)} ${Math.max(layout.height, 60)}`, role: 'group', 'aria-label': `pipeline ${s.pipeline.name}`, 'data-vertices': layout.vertices.length, 'data-layout-ms': layout.ms.toFixed(1) });
  root.append(svg('defs', {}, svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 6, markerHeight: 6, orient: 'auto-start-reverse' }, svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrowhead' }))));
  const edgeLayer = svg('g', { class: 'edges' });
  for (const e of layout.edges) edgeLayer.append(svg('path', { d: edgePath(e.points), class: inference.has(e.from) && inference.has(e.to) ? 'edge inference' : 'edge', 'marker-end': 'url(#arrow)' }));
  root.append(edgeLayer);
  const vertexLayer = svg('g', { class: 'vertices' });
  for (const v of layout.vertices) {
    const name = v.id.slice(v.id.indexOf(':') + 1);
    const classes = ['vertex', v.kind];
    if (inference.has(v.id)) classes.push('inference');
    if (v.id === (s.selected ?? '')) classes.push('selected');
    if (query && v.label.toLowerCase().includes(query)) classes.push('match');
    if (marks && v.kind === 'node') {
      if (marks.added.has(name)) classes.push('added');
      else if (marks.changed.has(name)) classes.push('changed');
      if (marks.rerun.has(name)) classes.push('rerun');
    }
    if (v.kind === 'dataset' && graph.datasets[name]?.declared === false) classes.push('memory');
    const g = svg(
      'g',
      {
        class: classes.join(' '),
        transform: `translate(${(v.x - v.width / 2).toFixed(1)},${(v.y - v.height / 2).toFixed(1)})`,
        tabindex: 0,
        role: 'button',
        'aria-label': `${v.kind} ${v.label}${classes.includes('rerun') ? ' (will re-run)' : ''}`,
        'data-id': v.id,
        on: {
          click: () => select(v.id),
          keydown: (e) => {
            const k = (e as KeyboardEvent).key;
            if (k === 'Enter' || k === ' ') {
              e.preventDefault();
              select(v.id);
            }
          },
        },
      },
      svg('rect', { width: v.width, height: v.height, rx: v.kind === 'dataset' ? 12 : 4 }),
      svg('text', { x: v.width / 2, y: v.height / 2, 'dominant-baseline': 'central', 'text-anchor': 'middle' }, v.label),
    );
    vertexLayer.append(g);
  }
  root.append(vertexLayer);
  return root;
}

async function lastExecution(pipeline: string, node: string): Promise<HTMLElement> {
  const runs = await api<{ runs: Array<{ id: string }> }>('/api/runs', { pipeline, limit: 1 });
  const first = runs.status === 200 ? runs.json.runs[0] : undefined;
  if (!first) return el('p', { class: 'muted' }, 'No run of this pipeline yet: kiln run ', pipeline);
  const d = await api<{ run: { id: string; status: string; nodes: Array<{ node: string; status: string; startTime: number; endTime: number | null; cacheHit: boolean }> }; shortId: string }>(`/api/runs/${first.id}`);
  if (d.status !== 200) return failed('Last run', d.json);
  const n = d.json.run.nodes.find((x) => x.node === node);
  return el(
    'p',
    { class: 'last-run' },
    'Last run ',
    el('a', { href: `#/run/${d.json.run.id}` }, d.json.shortId),
    ': ',
    n ? [el('span', { class: `status ${n.status}` }, n.status), `, ${formatDuration(n.startTime, n.endTime)}`, n.cacheHit ? ', skipped (outputs restored from the cache)' : ', executed'] : 'this node did not run',
  );
}

function nodePanel(n: UiNode, graph: UiGraph, s: State, marks: GraphMarks | undefined, types: Record<string, string>): HTMLElement {
  const binding = (b: { key: string; dataset: string }) => {
    const param = b.dataset.startsWith('params:') ? b.dataset.slice(7) : null;
    return [el('code', {}, b.key), b.dataset, el('code', { class: 'ts-type' }, types[b.dataset] ?? '?'), param !== null ? el('code', {}, text(graph.parameters[param] ?? paramTree(graph.parameters, param))) : ''];
  };
  const model = s.pipeline.model;
  const last = el('div', {}, el('p', { class: 'muted' }, 'Loading the last run…'));
  void lastExecution(s.pipeline.name, n.name).then((e) => replace(last, e));
  return el(
    'div',
    {},
    el('h2', {}, n.name),
    model?.nodes.includes(n.name) ? el('p', { class: 'badge inference' }, `part of the inference subgraph of model ${model.name}`) : null,
    marks?.rerun.has(n.name) ? el('p', { class: 'badge rerun' }, `will re-run: ${marks.reasons.get(n.name) ?? ''}`) : null,
    el('dl', {}, el('dt', {}, 'function'), el('dd', {}, el('code', {}, n.func)), el('dt', {}, 'at'), el('dd', {}, n.place ? `${n.place.file}:${n.place.line}` : '-'), el('dt', {}, 'declared in'), el('dd', {}, n.declaredIn), el('dt', {}, 'tags'), el('dd', {}, n.tags.join(', ') || '-'), el('dt', {}, 'namespace'), el('dd', {}, n.namespace ?? '-')),
    el('h3', {}, 'Inputs'),
    table(['argument', 'dataset', 'type', 'value'], n.inputs.map(binding), { class: 'inputs' }),
    el('h3', {}, 'Outputs'),
    table(['key', 'dataset', 'type', ''], n.outputs.map(binding), { class: 'outputs' }),
    el('h3', {}, 'Last run'),
    last,
  );
}

/** A parameter group (`train` of `train.epochs`…), gathered back from the flattened keys. */
function paramTree(params: Record<string, unknown>, prefix: string): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) if (k.startsWith(`${prefix}.`)) out[k.slice(prefix.length + 1)] = v;
  return Object.keys(out).length ? out : undefined;
}

function previewTable(rows: unknown[]): HTMLElement {
  const objects = rows.every((r) => r !== null && typeof r === 'object' && !Array.isArray(r));
  if (!objects) return el('pre', {}, rows.map((r) => text(r)).join('\n'));
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r as object)))].slice(0, 12);
  return table(cols, rows.map((r) => cols.map((c) => text((r as Record<string, unknown>)[c]))), { class: 'preview' });
}

function datasetPanel(name: string, graph: UiGraph, types: Record<string, string>): HTMLElement {
  const d = graph.datasets[name];
  const preview = el('div', {});
  if (d?.path && ['jsonl', 'csv', 'json'].includes(d.type)) {
    replace(preview, el('p', { class: 'muted' }, 'Loading the first rows…'));
    void api<{ rows: unknown[]; size: number; path: string; truncated: boolean }>(`/api/datasets/${encodeURIComponent(name)}/preview`).then((a) => {
      if (a.status !== 200) replace(preview, failed('No preview', a.json));
      else replace(preview, el('p', { class: 'muted' }, `${a.json.path}, ${a.json.size} bytes${a.json.truncated ? ', first rows' : ''}`), previewTable(a.json.rows));
    });
  }
  return el(
    'div',
    {},
    el('h2', {}, name),
    el('dl', {}, el('dt', {}, 'type'), el('dd', {}, d ? d.type : 'memory'), el('dt', {}, 'TypeScript'), el('dd', {}, el('code', { class: 'ts-type' }, types[name] ?? '?')), el('dt', {}, 'path'), el('dd', {}, d?.path ?? '(in memory)'), d?.description ? [el('dt', {}, 'description'), el('dd', {}, d.description)] : null, d?.schema ? [el('dt', {}, 'schema'), el('dd', {}, d.schema)] : null),
    d?.schemaJson ? [el('h3', {}, 'Record schema'), el('pre', { class: 'schema' }, JSON.stringify(d.schemaJson, null, 2))] : null,
    d?.path ? el('h3', {}, 'First rows') : null,
    preview,
  );
}

export function graphView(graph: UiGraph, opts: { pipeline?: string; marks?: GraphMarks; removed?: string[] } = {}): HTMLElement {
  const pipelines = graph.pipelines;
  const s: State = { pipeline: pipelines.find((p) => p.name === opts.pipeline) ?? pipelines[0], collapsed: new Set(), tag: '', namespace: '', search: '', focus: null, selected: null, datasets: true };
  // A large pipeline opens as an overview: namespaces collapsed, nodes linked directly; a click opens a namespace.
  if (s.pipeline.nodes.length > COLLAPSE_ABOVE) {
    s.collapsed = new Set(s.pipeline.nodes.map((n) => n.namespace).filter((x): x is string => !!x));
    s.datasets = false;
  }
  const canvas = el('div', { class: 'graph-canvas' });
  const panel = el('aside', { class: 'side-panel', 'aria-label': 'details', 'aria-live': 'polite' }, el('p', { class: 'muted' }, 'Select a node or a dataset to see its details.'));
  const controls = el('div', { class: 'controls' });
  const status = el('p', { class: 'muted graph-status', role: 'status' });
  let types: Record<string, string> = {};
  void datasetTypes().then((t) => (types = t));

  const select = (id: string) => {
    s.selected = id;
    const name = id.slice(id.indexOf(':') + 1);
    for (const g of canvas.querySelectorAll('.vertex.selected')) g.classList.remove('selected');
    canvas.querySelector(`[data-id="${CSS.escape(id)}"]`)?.classList.add('selected');
    if (id.startsWith('ns:')) {
      s.collapsed.delete(name);
      render();
      return;
    }
    const node = s.pipeline.nodes.find((n) => n.name === name);
    void datasetTypes().then((t) => {
      types = t;
      replace(panel, node ? [nodePanel(node, graph, s, opts.marks, types), el('button', { type: 'button', on: { click: () => ((s.focus = s.focus === name ? null : name), render()) } }, s.focus === name ? 'Show the whole pipeline' : 'Focus on its neighbourhood')] : datasetPanel(name, graph, types));
    });
  };

  const render = () => {
    const { vertices, edges } = visibleGraph(s);
    const layout = layoutGraph(vertices, edges);
    replace(canvas, drawGraph(layout, s, graph, opts.marks, select));
    replace(status, `${vertices.filter((v) => v.kind !== 'dataset').length} nodes, ${vertices.filter((v) => v.kind === 'dataset').length} datasets; layout ${layout.ms.toFixed(0)} ms`);
  };

  const tags = [...new Set(s.pipeline.nodes.flatMap((n) => n.tags))].sort();
  const namespaces = [...new Set(s.pipeline.nodes.map((n) => n.namespace).filter((x): x is string => !!x))].sort();
  const option = (v: string, label = v) => el('option', { value: v }, label);
  replace(
    controls,
    el('label', {}, 'Pipeline ', el('select', { 'aria-label': 'pipeline', on: { change: (e) => ((s.pipeline = pipelines.find((p) => p.name === (e.target as HTMLSelectElement).value)!), (s.focus = null), render()) } }, pipelines.map((p) => option(p.name)))),
    el('label', {}, 'Search ', el('input', { type: 'search', id: 'graph-search', placeholder: 'node or dataset', 'aria-label': 'search nodes and datasets', on: { input: (e) => ((s.search = (e.target as HTMLInputElement).value), render()) } })),
    el('label', {}, 'Tag ', el('select', { 'aria-label': 'filter by tag', on: { change: (e) => ((s.tag = (e.target as HTMLSelectElement).value), render()) } }, option('', 'all'), tags.map((t) => option(t)))),
    el('label', {}, 'Namespace ', el('select', { 'aria-label': 'filter by namespace', on: { change: (e) => ((s.namespace = (e.target as HTMLSelectElement).value), render()) } }, option('', 'all'), namespaces.map((t) => option(t)))),
    el('label', {}, el('input', { type: 'checkbox', checked: s.datasets, on: { change: (e) => ((s.datasets = (e.target as HTMLInputElement).checked), render()) } }), ' Datasets'),
    namespaces.length ? el('button', { type: 'button', on: { click: () => ((s.collapsed = s.collapsed.size ? new Set() : new Set(namespaces)), render()) } }, 'Collapse/expand namespaces') : null,
  );
  (controls.querySelector('select') as HTMLSelectElement).value = s.pipeline.name;
  render();
  const model = s.pipeline.model;
  return el(
    'div',
    { class: 'graph-view' },
    controls,
    el('div', { class: 'legend' }, model ? el('span', { class: 'swatch inference' }, `inference subgraph of model ${model.name} (${model.input} → ${model.output})`) : null, opts.marks ? [el('span', { class: 'swatch added' }, 'added'), el('span', { class: 'swatch changed' }, 'changed'), el('span', { class: 'swatch rerun' }, 'will re-run')] : null, opts.removed?.length ? el('span', { class: 'swatch removed' }, `removed: ${opts.removed.join(', ')}`) : null),
    el('div', { class: 'graph-body' }, canvas, panel),
    status,
  );
}
