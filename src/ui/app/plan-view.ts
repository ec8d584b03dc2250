// `kiln plan` between two revisions, drawn on the graph: added, changed and re-running nodes marked, removed ones
// listed; the same data as `kiln plan --format json`.
import type { Plan, PipelinePlan, RerunReason } from '../../gitops/plan-diff.ts';
import type { UiGraph } from '../graph.ts';
import { el, replace, section, table, text } from './dom.ts';
import { api, isStatic } from './data.ts';
import { graphView, type GraphMarks } from './graph-view.ts';
import { problems } from './problems.ts';
import type { DiagnosticJson } from './data.ts';

export function reasonText(r: RerunReason): string {
  switch (r.kind) {
    case 'new':
      return 'new node';
    case 'code':
      return `code of ${r.module} changed${r.detail ? ` (${r.detail})` : ''}`;
    case 'wiring':
      return `wiring changed: ${r.fields.join(', ')}`;
    case 'params':
      return `parameters changed: ${r.keys.join(', ')}`;
    case 'data':
      return `input data changed: ${r.datasets.join(', ')}`;
    case 'catalog':
      return `catalog entries changed: ${r.datasets.join(', ')}`;
    case 'backend':
      return `backend ${r.old} → ${r.new}`;
    case 'upstream':
      return `upstream re-runs: ${r.nodes.join(', ')}`;
  }
}

function marksOf(p: PipelinePlan): GraphMarks {
  return { added: new Set(p.nodesAdded), changed: new Set(p.nodesChanged.map((c) => c.node)), rerun: new Set(p.reruns.map((r) => r.node)), reasons: new Map(p.reruns.map((r) => [r.node, r.reasons.map(reasonText).join('; ')])) };
}

function planBody(plan: Plan, graph: UiGraph | null): HTMLElement {
  return el(
    'div',
    {},
    el('p', {}, `${plan.base.label} (${plan.base.commit?.slice(0, 7) ?? 'no commit'}) → ${plan.head.label} (${plan.head.commit?.slice(0, 7) ?? 'no commit'})`),
    plan.parameters.length ? section('Parameters', table(['key', 'before', 'after'], plan.parameters.map((c) => [c.key, text(c.old), text(c.new)]))) : null,
    plan.catalog.length ? section('Catalog', table(['dataset', 'change', 'fields'], plan.catalog.map((c) => [c.dataset, c.change, c.fields.join(', ')]))) : null,
    plan.pipelines.map((p) =>
      section(
        `Pipeline ${p.name}: ${p.change}`,
        el('p', { class: 'plan-summary' }, `${p.reruns.length} of ${p.nodeCount} nodes will re-run`),
        p.reruns.length ? table(['node', 'why', 'certain'], p.reruns.map((r) => [r.node, r.reasons.map(reasonText).join('; '), r.certain ? 'yes' : 'only if upstream output changes'])) : null,
        graph && graph.pipelines.some((g) => g.name === p.name) && plan.head.workingTree ? graphView(graph, { pipeline: p.name, marks: marksOf(p), removed: p.nodesRemoved }) : null,
      ),
    ),
    plan.unseen.length ? section('Not seen by the plan', el('ul', {}, plan.unseen.map((u) => el('li', {}, u)))) : null,
  );
}

export function planView(): HTMLElement {
  const out = el('div', {});
  const base = el('input', { id: 'plan-base', placeholder: 'main', 'aria-label': 'base revision', disabled: isStatic });
  const head = el('input', { id: 'plan-head', placeholder: 'working tree', 'aria-label': 'head revision', disabled: isStatic });
  const load = async () => {
    replace(out, el('p', { class: 'muted' }, 'Planning…'));
    const [a, g] = await Promise.all([api<{ plan: Plan | null; diagnostics?: DiagnosticJson[]; fix?: string }>('/api/plan', isStatic ? {} : { base: base.value, head: head.value }), api<{ graph: UiGraph | null }>('/api/project')]);
    if (a.status !== 200 || !a.json.plan) return replace(out, problems('No plan', a.json.diagnostics ?? [], a.json.fix ?? 'kiln plan'));
    replace(out, planBody(a.json.plan, g.json.graph));
  };
  void load();
  return el(
    'div',
    { class: 'plan-view' },
    el('h1', {}, 'Plan'),
    el('form', { class: 'controls', on: { submit: (e) => (e.preventDefault(), void load()) } }, el('label', {}, 'Base ', base), el('label', {}, ' Head ', head), el('button', { type: 'submit', disabled: isStatic }, 'Plan')),
    out,
  );
}
