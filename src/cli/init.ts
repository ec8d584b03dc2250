// `kiln init [dir]`: scaffold a new project (the flagship's layout with a small working pipeline), never overwriting.
import fs from 'node:fs';
import path from 'node:path';
import type { CommandModule } from './main.ts';
import { EXIT_OK, displayPath, handleFailure } from './io.ts';
import { diag, KilnError } from '../diagnostics/diagnostic.ts';

export const initCommand: CommandModule = {
  register(program, io, setExit) {
    program
      .command('init [dir]')
      .description('create a new kiln project (a small working pipeline with a model and a gate) in dir, or here')
      .option('--name <name>', 'project and model name (default: the folder name)')
      .option('--ci <provider>', 'also write a CI workflow: github')
      .action((dir: string | undefined, opts: { name?: string; ci?: string }) => {
        setExit(
          (async () => {
            try {
              const root = path.resolve(io.cwd, dir ?? '.');
              const { projectNameFrom, scaffoldProject } = await import('../gitops/scaffold.ts');
              const name = opts.name ?? projectNameFrom(path.basename(root));
              if (name === null) throw new KilnError(diag('KILN7019', { name: path.basename(root), reason: 'no project name can be made from the folder name' }));
              const files = await scaffoldProject(root, { name, ci: opts.ci ?? null });
              const existing = [...files.keys()].filter((rel) => fs.existsSync(path.join(root, ...rel.split('/'))));
              if (existing.length) throw new KilnError(diag('KILN7017', { count: existing.length, files: existing.slice(0, 8).join(', ') + (existing.length > 8 ? ', ...' : '') }));
              for (const [rel, text] of files) {
                const abs = path.join(root, ...rel.split('/'));
                fs.mkdirSync(path.dirname(abs), { recursive: true });
                fs.writeFileSync(abs, text, { flag: 'wx' });
              }
              const shown = displayPath(io, root) || '.';
              io.out(
                `created kiln project '${name}' in ${shown} (${files.size} files)\n\nnext:\n` +
                  (shown === '.' ? '' : `  cd ${shown}\n`) +
                  `  npm install                  # kiln and TypeScript\n` +
                  `  git init && git add -A && git commit -m "kiln init"\n` +
                  `  npx kiln run                 # train, evaluate, build and check the inference artifact\n` +
                  `  npx kiln publish             # on a clean main branch: version 1 becomes ${name}@production\n`,
              );
              return EXIT_OK;
            } catch (e) {
              return handleFailure(io, e);
            }
          })(),
        );
      });
  },
};
