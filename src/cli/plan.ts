// `kiln plan`: what differs between the main branch (or --base) and the working tree, and which nodes will re-run.
import path from 'node:path';
import { Option } from 'commander';
import type { CommandModule } from './main.ts';
import { EXIT_OK, EXIT_USER, handleFailure, report } from './io.ts';

export const planCommand: CommandModule = {
  register(program, io, setExit) {
    program
      .command('plan')
      .description('compare the declarations and node code with the main branch (or --base) and list the nodes that will re-run')
      .option('--project <dir>', 'project root (the folder with kiln.yaml)', '.')
      .option('--base <ref>', 'revision to compare with (default: where HEAD left git.main of kiln.yaml)')
      .option('--head <ref>', 'revision to compare (default: the working tree)')
      .addOption(new Option('--format <format>', 'output format').choices(['text', 'md', 'json']).default('text'))
      .action((opts: { project: string; base?: string; head?: string; format: 'text' | 'md' | 'json' }) => {
        setExit(
          (async () => {
            const root = path.resolve(io.cwd, opts.project);
            const { planProject, PlanError } = await import('../gitops/plan.ts');
            try {
              const plan = await planProject({ root, ...(opts.base ? { base: opts.base } : {}), ...(opts.head ? { head: opts.head } : {}) });
              const { renderPlanMarkdown, renderPlanText } = await import('../gitops/plan-format.ts');
              io.out(opts.format === 'json' ? JSON.stringify(plan, null, 2) + '\n' : opts.format === 'md' ? renderPlanMarkdown(plan) : renderPlanText(plan));
              return EXIT_OK;
            } catch (e) {
              if (e instanceof PlanError) return report(io, e.diagnostics, { sources: e.sources, root, json: opts.format === 'json' }) || EXIT_USER;
              return handleFailure(io, e, opts.format === 'json');
            }
          })(),
        );
      });
  },
};
