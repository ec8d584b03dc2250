// `kiln compile`: generate typed TypeScript into generated/ and type-check it; `--check` fails when it is stale.
import path from 'node:path';
import type { CommandModule } from './main.ts';
import { report, EXIT_OK, EXIT_USER } from './io.ts';
import { buildProject, diffGenerated, refusedOverwrites, writeGenerated } from '../build.ts';
import { diag } from '../diagnostics/diagnostic.ts';
import { rememberBuild } from '../build-cache.ts';
import { analyzeAndRememberIr } from '../ir-cache.ts';
import { compilerKey } from '../compiler-fingerprint.ts';

export const compileCommand: CommandModule = {
  register(program, io, setExit) {
    program
      .command('compile')
      .description('generate typed TypeScript for the pipelines into generated/ and type-check the wiring')
      .option('--project <dir>', 'project root (the folder with kiln.yaml)', '.')
      .option('--check', 'write nothing; exit 1 if generated/ is stale or the wiring does not type-check')
      .option('--no-typecheck', 'skip the TypeScript type-check')
      .option('--json', 'print diagnostics as a JSON array')
      .action(async (opts: { project: string; check?: boolean; typecheck: boolean; json?: boolean }) => {
        const root = path.resolve(io.cwd, opts.project);
        // 'cached': the type-check kiln run would otherwise repeat is kept in the store (same result either way).
        // The declarations analysed here are remembered (ir-cache.ts), so that the `kiln run` after a compile recalls them
        // instead of parsing them again.
        const analyzed = opts.check ? undefined : await analyzeAndRememberIr(root, await compilerKey(), { checks: true });
        const result = await buildProject(root, { typecheck: opts.typecheck && !opts.check ? 'cached' : opts.typecheck, analyzed });
        const diagnostics = [...result.diagnostics];
        let summary = '';
        if (result.output && result.ir && result.ok) {
          const gen = result.ir.settings.generatedDir;
          const refuse = (foreign: string[]) => diagnostics.push(...refusedOverwrites(result.ir!.settings, foreign));
          if (opts.check) {
            const diff = await diffGenerated(root, gen, result.output.files);
            refuse(diff.foreign);
            const stale = [...diff.changed, ...diff.removed.map((f) => `${f} (no longer generated)`)];
            if (stale.length) diagnostics.push(diag('KILN2024', { files: stale.join(', ') }));
            else summary = `generated/ is up to date (${result.output.files.size} files)\n`;
          } else {
            const diff = await writeGenerated(root, gen, result.output.files);
            refuse(diff.foreign);
            // What was just written and type-checked is what `kiln run` builds first: it reuses it instead.
            if (!diff.foreign.length && opts.typecheck) await rememberBuild(root, result);
            if (!diff.foreign.length) summary = `compiled ${Object.keys(result.ir.pipelines).length} pipeline(s): ${diff.changed.length} file(s) written, ${diff.removed.length} removed, ${result.output.files.size - diff.changed.length} unchanged\n`;
          }
        }
        const code = report(io, diagnostics, { json: opts.json, sources: result.loaded.sources, root });
        if (!opts.json && code === EXIT_OK && summary) io.err(summary);
        setExit(code === EXIT_OK ? EXIT_OK : EXIT_USER);
      });
  },
};
