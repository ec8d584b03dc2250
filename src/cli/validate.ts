// `kiln validate`: load and check the declarations; print every diagnostic.
import path from 'node:path';
import type { CommandModule } from './main.ts';
import { report } from './io.ts';
import { storeDirOf } from '../config/store-dir.ts';
import { loadTextVerdicts, saveTextVerdicts, verdictsFile } from '../text-verdicts.ts';
import { analyzeAndRememberIr, recallIr } from '../ir-cache.ts';
import { compilerKey } from '../compiler-fingerprint.ts';
import { checkProject } from '../check/index.ts';
import { settleDiagnostics } from '../diagnostics/diagnostic.ts';

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
        // Nor are unchanged declarations parsed and resolved again (the IR cache `kiln run` uses too): the YAML parser and
        // the schema validators were most of a warm validate. The checks always run; their verdicts are cached above.
        const compiler = await compilerKey();
        const resolved = (await recallIr(root, compiler)) ?? (await analyzed(root, compiler));
        const { ir, sources } = resolved;
        const diagnostics = settleDiagnostics(ir ? [...resolved.diagnostics, ...(await checkProject(ir, sources, resolved.cyclic))] : resolved.diagnostics);
        await saveTextVerdicts(verdicts);
        const code = report(io, diagnostics, { json: opts.json, sources, root });
        if (!opts.json && code === 0) {
          const n = ir ? Object.values(ir.pipelines).reduce((s, p) => s + p.nodes.length, 0) : 0;
          const entries = Object.keys(ir?.datasets ?? {}).length;
          io.err(`valid: ${Object.keys(ir?.pipelines ?? {}).length} pipeline(s), ${n} node(s), ${entries} catalog entr${entries === 1 ? 'y' : 'ies'}\n`);
        }
        setExit(code);
      });
  },
};

// Loads and resolves afresh (remembering a clean IR for the next command), without the checks, which validate runs on
// either path.
async function analyzed(root: string, compiler: string) {
  const a = await analyzeAndRememberIr(root, compiler);
  return { ir: a.ir, sources: a.loaded.sources, diagnostics: a.resolution, cyclic: a.cyclic };
}
