// `kiln publish [model]`: publish the model of the run at HEAD, if every condition holds (clean main, finished run,
// parity, gate), as the next registered version, and point the alias at it.
import path from 'node:path';
import { Option } from 'commander';
import type { CommandModule } from './main.ts';
import { EXIT_INTERNAL, EXIT_OK, handleFailure } from './io.ts';
import { isKilnError } from '../diagnostics/index.ts';
import type { PublishResult } from '../gitops/publish.ts';

const aliasText = (r: PublishResult) => (r.previous === null ? '(unset)' : `v${r.previous}`);

function describe(r: PublishResult): string {
  if (r.alreadyPublished) {
    const head = `run ${r.run} (commit ${r.commit.slice(0, 7)}) is already published as ${r.model} v${r.version} (${r.artifact})`;
    if (r.aliasMoved) return `${head}\n  ${r.model}@${r.alias}: ${aliasText(r)} → v${r.version}\n`;
    return `${head}; nothing to do\n  ${r.model}@${r.alias}: ${aliasText(r)}\n`;
  }
  const lines = [
    `${r.dryRun ? 'would publish' : 'published'} ${r.model} v${r.version} from run ${r.run} (commit ${r.commit.slice(0, 7)} on ${r.branch})`,
    `  artifact: ${r.artifact} (${r.files} files, verified)`,
  ];
  if (r.gate.length) lines.push(`  gate: ${r.gate.join('; ')}`);
  if (r.overrides.length) lines.push(`  overrides (--allow-overrides, recorded in the registry): ${r.overrides.join('; ')}`);
  lines.push(`  ${r.model}@${r.alias}: ${r.previous === null ? '(unset)' : `v${r.previous}`} → v${r.version}${r.dryRun ? ' (not moved: --dry-run)' : ''}`);
  return lines.join('\n') + '\n';
}

export const publishCommand: CommandModule = {
  register(program, io, setExit) {
    program
      .command('publish [model]')
      .description('publish the model of the run at HEAD (clean main branch, parity passed, gate passed) as its next version and move the alias')
      .option('--project <dir>', 'project root (the folder with kiln.yaml)', '.')
      .option('--alias <alias>', 'alias to point at the new version (production by default); named, it is moved also when the artifact was published before')
      .option('--allow-overrides', 'publish a run that departs from the committed declarations (--params, --load-version, a node filter, --backend), recording the overrides with the version')
      .option('--dry-run', 'check every condition and say what would happen, changing nothing')
      .option('--as-main', "with --dry-run: judge HEAD as if it were main's tip, so that a pull request previews main's verdict (the gate against production)")
      .addOption(new Option('--format <format>', 'output format: md prints the verdict, passed or refused, as Markdown on stdout (for a CI job summary)').choices(['text', 'md', 'json']).default('text'))
      .option('--json', 'print the result (or the diagnostics) as JSON (same as --format json)')
      .action((model: string | undefined, opts: { project: string; alias?: string; allowOverrides?: boolean; dryRun?: boolean; asMain?: boolean; format: 'text' | 'md' | 'json'; json?: boolean }) => {
        if (opts.asMain && !opts.dryRun) {
          io.err("error: option '--as-main' previews a publish and needs --dry-run: only main's own checkout publishes\n");
          setExit(EXIT_INTERNAL);
          return;
        }
        const format = opts.json ? 'json' : opts.format;
        const context = { dryRun: opts.dryRun ?? false, asMain: opts.asMain ?? false };
        setExit(
          (async () => {
            try {
              const { publishModel } = await import('../gitops/publish.ts');
              const r = await publishModel({
                root: path.resolve(io.cwd, opts.project),
                ...(opts.alias !== undefined ? { alias: opts.alias } : {}),
                allowOverrides: opts.allowOverrides ?? false,
                dryRun: opts.dryRun ?? false,
                asMain: opts.asMain ?? false,
                ...(model ? { model } : {}),
              });
              if (format === 'json') io.out(JSON.stringify(r, null, 2) + '\n');
              else if (format === 'md') io.out((await import('../gitops/publish-format.ts')).renderPublishMarkdown(r, context));
              else io.out(describe(r));
              return EXIT_OK;
            } catch (e) {
              // The refusal goes to the summary too (stdout), and to stderr with code frames as always.
              if (format === 'md' && isKilnError(e)) io.out((await import('../gitops/publish-format.ts')).renderRefusalMarkdown(e.diagnostics, context));
              return handleFailure(io, e, format === 'json');
            }
          })(),
        );
      });
  },
};
