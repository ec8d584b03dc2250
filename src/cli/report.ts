// `kiln report`: metrics of the latest run at the base commit against the latest run at HEAD, as Markdown for a
// pull request (or JSON), with the runs' images written next to it.
import fs from 'node:fs/promises';
import path from 'node:path';
import { Option } from 'commander';
import type { CommandModule } from './main.ts';
import { EXIT_OK, handleFailure, report } from './io.ts';

export const reportCommand: CommandModule = {
  register(program, io, setExit) {
    program
      .command('report')
      .description('compare the metrics, parameters and training curves of the latest run at the base commit with those of the latest run at HEAD')
      .option('--project <dir>', 'project root (the folder with kiln.yaml)', '.')
      .option('--base <ref>', 'revision to compare with (default: where HEAD left git.main of kiln.yaml)')
      .option('--pipeline <name>', 'pipeline to report on (default: the one with a model binding)')
      .option('--out <dir>', 'write report.md and the images logged with the runs into this folder')
      .addOption(new Option('--format <format>', 'output format').choices(['md', 'json']).default('md'))
      .action((opts: { project: string; base?: string; pipeline?: string; out?: string; format: 'md' | 'json' }) => {
        setExit(
          (async () => {
            const root = path.resolve(io.cwd, opts.project);
            try {
              const { buildReport } = await import('../gitops/report.ts');
              const { renderReportMarkdown } = await import('../gitops/report-format.ts');
              const outDir = opts.out ? path.resolve(io.cwd, opts.out) : undefined;
              const { report: r, warnings } = await buildReport({ root, ...(opts.base ? { base: opts.base } : {}), ...(opts.pipeline ? { pipeline: opts.pipeline } : {}), ...(outDir ? { outDir } : {}) });
              const md = renderReportMarkdown(r);
              if (outDir) {
                await fs.mkdir(outDir, { recursive: true });
                await fs.writeFile(path.join(outDir, 'report.md'), md);
              }
              // Warnings go to stderr in both formats, so that stdout stays the report (appended to a CI summary).
              if (warnings.length) report(io, warnings, { root });
              io.out(opts.format === 'json' ? JSON.stringify(r, null, 2) + '\n' : md);
              return EXIT_OK;
            } catch (e) {
              return handleFailure(io, e, opts.format === 'json');
            }
          })(),
        );
      });
  },
};
