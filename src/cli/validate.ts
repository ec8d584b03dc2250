// `kiln validate`: load and check the declarations; print every diagnostic.
import path from 'node:path';
import type { CommandModule } from './main.ts';
import { report } from './io.ts';
import { analyzeProject } from '../project.ts';
import { storeDirOf } from '../config/store-dir.ts';
import { loadTextVerdicts, saveTextVerdicts, verdictsFile } from '../text-verdicts.ts';

export const validateCommand: CommandModule = {
  register(program, io, setExit) {
    program
      .command('validate')
      .description('check kiln.yaml, the catalog, parameters and pipelines against their schemas and each other')
      .option('--project <dir>', 'project root (the folder with kiln.yaml)', '.')
      .option('--json', 'print diagnostics as a JSON array')
      .action(async (opts: { project: string; json?: boolean }) => {
        const root = path.resolve(io.cwd, opts.project);
        // What an earlier validate concluded about unchanged record schemas and node modules is not worked out again.
        const verdicts = verdictsFile(storeDirOf(root));
        loadTextVerdicts(verdicts);
        const result = await analyzeProject(root);
        await saveTextVerdicts(verdicts);
        const code = report(io, result.diagnostics, { json: opts.json, sources: result.loaded.sources, root });
        if (!opts.json && code === 0) {
          const n = result.ir ? Object.values(result.ir.pipelines).reduce((s, p) => s + p.nodes.length, 0) : 0;
          const entries = Object.keys(result.ir?.datasets ?? {}).length;
          io.err(`valid: ${Object.keys(result.ir?.pipelines ?? {}).length} pipeline(s), ${n} node(s), ${entries} catalog entr${entries === 1 ? 'y' : 'ies'}\n`);
        }
        setExit(code);
      });
  },
};
