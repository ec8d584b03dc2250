// The model registry: versions with aliases, digests and gate results, and each alias's history of moves.
import type { UiRegisteredModel } from '../models-view.ts';
import { el, replace, section, table, formatNumber, formatTime } from './dom.ts';
import { api } from './data.ts';
import { failed, missing } from './problems.ts';

function model(m: UiRegisteredModel): HTMLElement {
  return el(
    'article',
    { class: 'model' },
    el('h2', {}, m.name, ' ', Object.entries(m.aliases).map(([a, v]) => el('span', { class: 'alias' }, `${a} → v${v}`))),
    m.description ? el('p', {}, m.description) : null,
    table(
      ['version', 'aliases', 'published', 'run', 'commit', 'digest', 'gate', 'overrides'],
      m.versions.map((v) => [
        `v${v.version}`,
        v.aliases.join(', ') || '-',
        formatTime(v.createdAt),
        v.runId ? el('a', { href: `#/run/${v.runId}` }, v.runId.slice(0, 8)) : '-',
        v.commit?.slice(0, 7) ?? '-',
        el('code', {}, v.artifactSha256.slice(0, 16)),
        v.gate.length ? v.gate.map((g) => el('div', { class: `gate ${g.passed === null ? 'unknown' : g.passed ? 'passed' : 'failed'}` }, `${g.metric} ${formatNumber(g.value)} ${g.rule} ${g.passed === null ? '?' : g.passed ? '✓' : '✗'}`)) : '-',
        v.overrides.join('; ') || '-',
      ]),
    ),
    Object.entries(m.aliasHistory).map(([alias, moves]) =>
      section(
        `History of ${alias}`,
        table(['when', 'moved to', 'move'], moves.map((c, i) => {
          const prev = i > 0 ? moves[i - 1].version : null;
          const kind = c.version === null ? 'removed' : prev === null ? 'set' : c.version < prev ? 'rollback' : 'publish';
          return [formatTime(c.changedAt), c.version === null ? '(removed)' : `v${c.version}`, kind];
        })),
      ),
    ),
  );
}

export function modelsView(): HTMLElement {
  const box = el('div', {}, el('p', { class: 'muted' }, 'Loading…'));
  void api<{ models: UiRegisteredModel[]; store: boolean; registry?: string }>('/api/models').then((a) => {
    if (a.status !== 200) return replace(box, failed('The registry cannot be read', a.json));
    if (!a.json.models.length) return replace(box, missing(a.json.registry ? `No model is published to ${a.json.registry} yet.` : 'No model is registered yet.', 'kiln publish'));
    // An OCI registry's tags are the registry: it keeps no history of alias moves.
    const where = a.json.registry ? el('p', { class: 'muted' }, `Published to ${a.json.registry}`) : null;
    replace(box, el('h1', {}, 'Models'), ...(where ? [where] : []), a.json.models.map(model));
  });
  return box;
}
