// `kiln publish --format md`: the verdict as Markdown for a CI job summary, passed or refused, so that a pull request
// shows beside its report whether main would publish it and, when not, which condition failed and what to do.
import type { Diagnostic } from '../diagnostics/types.ts';
import { cell, code, table } from './markdown.ts';
import type { PublishResult } from './publish-step.ts';

export interface PublishVerdictContext {
  dryRun: boolean;
  /** The pull request's preview (--as-main): the verdict is about the commit once merged. */
  asMain: boolean;
}

function title(c: PublishVerdictContext): string {
  return `### kiln publish${c.dryRun ? ' --dry-run' : ''}${c.asMain ? ' (as if merged into main)' : ''}`;
}

export function renderPublishMarkdown(r: PublishResult, c: PublishVerdictContext): string {
  const alias = code(`${r.model}@${r.alias}`);
  const was = r.previous === null ? '(unset)' : `v${r.previous}`;
  const head = r.alreadyPublished
    ? `${r.dryRun ? 'Nothing to publish' : 'Nothing published'}: this artifact is ${code(r.model)} v${r.version} already.`
    : `${r.dryRun ? 'Would publish' : 'Published'} ${code(r.model)} v${r.version}: every condition holds.`;
  const rows: string[][] = [
    ['Run', `${code(r.run)} (commit ${code(r.commit.slice(0, 7))})`],
    ['Gate', r.gate.length ? r.gate.map(cell).join('<br>') : 'no gate declared'],
    [alias, r.alreadyPublished ? (r.aliasMoved ? `${was} → v${r.version}` : was) : `${was} → v${r.version}${r.dryRun ? ' (not moved: dry run)' : ''}`],
  ];
  if (r.overrides.length) rows.push(['Overrides', r.overrides.map(cell).join('<br>')]);
  return ['<!-- kiln-publish -->', title(c), '', `**${head}**`, '', table(['', ''], rows)].join('\n');
}

/** The refusal: each error with its code and what to do, in the words the terminal shows. */
export function renderRefusalMarkdown(diagnostics: readonly Diagnostic[], c: PublishVerdictContext): string {
  const errors = diagnostics.filter((d) => d.severity === 'error');
  const lead = c.asMain ? 'Merged as it is, this commit would not be published by main:' : 'Not published:';
  const items = errors.map((d) => `- **${d.code}** ${cell(d.message)}${d.location ? ` (${code(`${d.location.file}:${d.location.line}`)})` : ''}${d.hint ? `<br>${cell(d.hint)}` : ''}`);
  return ['<!-- kiln-publish -->', title(c), '', `**${lead}**`, '', ...items, ''].join('\n');
}
