// How a plan reads: text for a terminal, Markdown for a pull request (summary first, details collapsed).
import { cell, code, details, showValue, table } from './markdown.ts';
import { planIsEmpty, type Plan, type PipelinePlan, type RerunReason, type RevisionInfo } from './plan-diff.ts';

const short = (c: string | null) => (c ? c.slice(0, 7) : 'no commit');
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function revision(r: RevisionInfo, md: boolean): string {
  const c = short(r.commit);
  if (md) return r.workingTree ? `${r.label} at ${code(c)}` : `${code(r.label)} (${code(c)})`;
  return r.workingTree ? `${r.label} at ${c}` : `${r.label} (${c})`;
}

export function reasonText(r: RerunReason, md = false): string {
  const q = (s: string) => (md ? code(s) : s);
  switch (r.kind) {
    case 'new':
      return 'new node';
    case 'code':
      return `code changed (${q(r.module)}${r.detail ? `: ${md ? cell(r.detail) : r.detail}` : ''})`;
    case 'wiring':
      return `wiring changed: ${r.fields.join(', ')}`;
    case 'params':
      return `${r.keys.length === 1 ? 'parameter' : 'parameters'} ${r.keys.map(q).join(', ')} changed`;
    case 'data':
      return `input data changed: ${r.datasets.map(q).join(', ')}`;
    case 'catalog':
      return `catalog entry changed: ${r.datasets.map(q).join(', ')}`;
    case 'backend':
      return `backend changed: ${q(r.old)} → ${q(r.new)}`;
    case 'upstream':
      return `upstream re-runs: ${r.nodes.map(q).join(', ')}`;
  }
}

/** "2 of 4 nodes will re-run, 1 may re-run": a node that re-runs only for an upstream one may be skipped. */
function rerunCount(p: PipelinePlan): string {
  const will = p.reruns.filter((r) => r.certain).length;
  const may = p.reruns.length - will;
  if (!p.reruns.length) return 'nothing will re-run';
  return `${will} of ${plural(p.nodeCount, 'node')} will re-run${may ? `, ${may} may re-run` : ''}`;
}

const MAY = 'may re-run (only if a node above writes different bytes):';

function headline(p: PipelinePlan): string {
  if (p.change === 'removed') return `pipeline ${p.name} is removed`;
  if (p.change === 'added') return `pipeline ${p.name} is new: all ${plural(p.nodeCount, 'node')} will run`;
  return `pipeline ${p.name}: ${rerunCount(p)}`;
}

export function renderPlanText(plan: Plan): string {
  const out: string[] = [`plan: ${revision(plan.base, false)} → ${revision(plan.head, false)}`, ''];
  const section = (title: string, lines: string[]) => {
    if (lines.length) out.push(title, ...lines.map((l) => `  ${l}`), '');
  };
  if (planIsEmpty(plan)) {
    out.push('no differences: nothing will re-run', '');
    section('plan cannot see:', plan.unseen);
    return out.join('\n').trimEnd() + '\n';
  }
  section(`parameters (${plan.parameters.length} changed)`, plan.parameters.map((c) => `${c.old === undefined ? '+' : c.new === undefined ? '-' : '~'} ${c.key}: ${showValue(c.old)} → ${showValue(c.new)}`));
  section('catalog', plan.catalog.map((c) => (c.change === 'added' ? `+ ${c.dataset} (${c.type})` : c.change === 'removed' ? `- ${c.dataset} (${c.type})` : `~ ${c.dataset}: ${c.fields.join(', ')}`)));
  section('input data', plan.inputData.map((d) => `~ ${d.dataset}: ${d.why}`));
  section('models', plan.models.flatMap((m) => [`${m.change === 'added' ? '+' : m.change === 'removed' ? '-' : '~'} ${m.model} (pipeline ${m.pipeline})`, ...m.fields.map((f) => `    ${f.key}: ${showValue(f.old)} → ${showValue(f.new)}`)]));
  for (const p of plan.pipelines) {
    if (p.change === 'unchanged') continue;
    const lines: string[] = [];
    const changes = [...p.nodesAdded.map((n) => `+ ${n}`), ...p.nodesRemoved.map((n) => `- ${n}`), ...p.nodesChanged.map((c) => `~ ${c.node} (${c.fields.join(', ')})`)];
    if (changes.length) lines.push(`nodes: ${changes.join(', ')}`);
    if (p.reruns.length && p.change !== 'added') {
      const w = Math.max(...p.reruns.map((r) => r.node.length));
      const row = (r: PipelinePlan['reruns'][number]) => `  ${r.node.padEnd(w)}  ${r.reasons.map((x) => reasonText(x)).join('; ')}`;
      const will = p.reruns.filter((r) => r.certain);
      const may = p.reruns.filter((r) => !r.certain);
      if (will.length) lines.push('will re-run:', ...will.map(row));
      if (may.length) lines.push(MAY, ...may.map(row));
    }
    section(headline(p), lines);
  }
  section('settings (kiln.yaml)', plan.settings.map((c) => `~ ${c.key}: ${showValue(c.old)} → ${showValue(c.new)}`));
  section('plan cannot see:', plan.unseen);
  return out.join('\n').trimEnd() + '\n';
}

/** The Markdown posted on a pull request; the first line is a marker a bot can use to update its own comment. */
export function renderPlanMarkdown(plan: Plan): string {
  const out: string[] = ['<!-- kiln-plan -->', '### kiln plan', '', `${revision(plan.base, true)} → ${revision(plan.head, true)}`, ''];
  const unseen = plan.unseen.length ? details('What plan cannot see', plan.unseen.map((u) => `- ${cell(u)}`).join('\n')) : '';
  if (planIsEmpty(plan)) return `${out.join('\n')}No differences: nothing will re-run.\n${unseen ? `\n${unseen}\n` : ''}`;
  const summary = plan.pipelines.filter((p) => p.change !== 'unchanged').map((p) => `**${p.name}**: ${p.change === 'removed' ? 'removed' : p.change === 'added' ? `new, ${plural(p.nodeCount, 'node')} will run` : rerunCount(p)}`);
  if (plan.parameters.length) summary.push(`${plural(plan.parameters.length, 'parameter')} changed`);
  if (plan.catalog.length) summary.push(`${plural(plan.catalog.length, 'catalog entry', 'catalog entries')} changed`);
  if (plan.models.length) summary.push(`${plural(plan.models.length, 'model binding')} changed`);
  out.push(summary.join(' · '), '');

  for (const p of plan.pipelines) {
    if (!p.reruns.length || p.change === 'added') continue;
    const rows = (certain: boolean) => p.reruns.filter((r) => r.certain === certain).map((r) => [code(r.node), r.reasons.map((x) => reasonText(x, true)).join('; ')]);
    if (rows(true).length) out.push(`#### Will re-run in ${code(p.name)}`, '', table(['Node', 'Why'], rows(true)));
    if (rows(false).length) out.push(`#### May re-run in ${code(p.name)} (only if a node above writes different bytes)`, '', table(['Node', 'Why'], rows(false)));
  }
  if (plan.parameters.length) out.push('#### Parameters', '', table(['Parameter', 'Old', 'New'], plan.parameters.map((c) => [code(c.key), code(showValue(c.old)), code(showValue(c.new))])));
  if (plan.models.length) {
    out.push('#### Model bindings', '', table(['Model', 'Field', 'Old', 'New'], plan.models.flatMap((m) => m.fields.map((f) => [`${code(m.model)} (${m.change})`, code(f.key), code(showValue(f.old)), code(showValue(f.new))]))));
  }

  const structure: string[] = [];
  for (const p of plan.pipelines) {
    const rows = [...p.nodesAdded.map((n) => [code(n), 'added', '']), ...p.nodesRemoved.map((n) => [code(n), 'removed', '']), ...p.nodesChanged.map((c) => [code(c.node), 'changed', c.fields.join(', ')])];
    if (p.change === 'added' || p.change === 'removed') structure.push(`**Pipeline ${code(p.name)}**: ${p.change}`, '');
    else if (rows.length) structure.push(`**Nodes of ${code(p.name)}**`, '', table(['Node', 'Change', 'Fields'], rows));
  }
  if (plan.catalog.length) structure.push('**Catalog**', '', table(['Dataset', 'Change', 'Fields'], plan.catalog.map((c) => [code(c.dataset), c.change, c.change === 'changed' ? c.fields.join(', ') : code(c.type)])));
  if (plan.inputData.length) structure.push('**Input data**', '', table(['Dataset', 'What changed'], plan.inputData.map((d) => [code(d.dataset), cell(d.why)])));
  if (plan.settings.length) structure.push('**Settings** (kiln.yaml)', '', table(['Setting', 'Old', 'New'], plan.settings.map((c) => [code(c.key), code(showValue(c.old)), code(showValue(c.new))])));
  if (structure.length) out.push(details('Structural changes', structure.join('\n')));
  if (unseen) out.push(unseen);
  return out.join('\n').trimEnd() + '\n';
}
