// `kiln publish [model]`: publish the model of the run at HEAD, if every condition holds (clean main, finished run,
// parity, gate), as the next registered version, and point the alias at it.
import path from 'node:path';
import type { CommandModule } from './main.ts';
import { EXIT_OK, handleFailure } from './io.ts';
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
      .option('--json', 'print the result (or the diagnostics) as JSON')
      .action((model: string | undefined, opts: { project: string; alias?: string; allowOverrides?: boolean; dryRun?: boolean; json?: boolean }) => {
        setExit(
          (async () => {
            try {
              const { publishModel } = await import('../gitops/publish.ts');
              const r = await publishModel({
                root: path.resolve(io.cwd, opts.project),
                ...(opts.alias !== undefined ? { alias: opts.alias } : {}),
                allowOverrides: opts.allowOverrides ?? false,
                dryRun: opts.dryRun ?? false,
                ...(model ? { model } : {}),
              });
              if (opts.json) io.out(JSON.stringify(r, null, 2) + '\n');
              else io.out(describe(r));
              return EXIT_OK;
            } catch (e) {
              return handleFailure(io, e, opts.json);
            }
          })(),
        );
      });
  },
};
