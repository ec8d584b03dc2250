// `kiln init [dir]`: scaffold a new project (the flagship's layout with a small working pipeline), or add one to an
// existing npm project, merging package.json and .gitignore and never overwriting anything else without --force.
import fs from 'node:fs';
import path from 'node:path';
import type { CommandModule } from './main.ts';
import { EXIT_OK, displayPath, handleFailure, report } from './io.ts';
import { diag, hasErrors, KilnError } from '../diagnostics/index.ts';
import { writeFileAtomic } from '../runtime/atomic.ts';

function readIfFile(abs: string): string | undefined {
  try {
    return fs.statSync(abs).isFile() ? fs.readFileSync(abs, 'utf8') : undefined;
  } catch {
    return undefined;
  }
}

function insideGitRepository(dir: string): boolean {
  for (let d = dir; ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, '.git'))) return true;
    if (path.dirname(d) === d) return false;
  }
}

function packageNameIn(text: string | undefined): string | null {
  try {
    const name = text === undefined ? undefined : (JSON.parse(text) as { name?: unknown }).name;
    return typeof name === 'string' ? name : null;
  } catch {
    return null;
  }
}

export const initCommand: CommandModule = {
  register(program, io, setExit) {
    program
      .command('init [dir]')
      .description('create a kiln project (a small working pipeline with a model and a gate) in dir, or here; in an existing npm project, adds to its package.json and .gitignore')
      .option('--name <name>', 'project and model name (default: the folder name)')
      .option('--ci <provider>', 'also write a CI workflow: github')
      .option('--force', 'replace files of the project that kiln init would write (package.json and .gitignore are merged, never replaced), and add "type": "module" even where CommonJS files would change meaning')
      .action((dir: string | undefined, opts: { name?: string; ci?: string; force?: boolean }) => {
        setExit(
          (async () => {
            try {
              const root = path.resolve(io.cwd, dir ?? '.');
              const { projectNameFrom, scaffoldProject } = await import('../gitops/scaffold.ts');
              const { planInit } = await import('../gitops/init-existing.ts');
              const { commonJsUsers } = await import('../gitops/commonjs-files.ts');
              // In an existing npm project its package name is the natural name ('@acme/sensors' gives acme-sensors).
              const packageName = packageNameIn(readIfFile(path.join(root, 'package.json')));
              const name = opts.name ?? (packageName !== null ? projectNameFrom(packageName) : null) ?? projectNameFrom(path.basename(root));
              if (name === null) throw new KilnError(diag('KILN7019', { name: path.basename(root), reason: 'no project name can be made from the folder name' }));
              const files = await scaffoldProject(root, { name, ci: opts.ci ?? null });
              const read = (rel: string) => readIfFile(path.join(root, ...rel.split('/')));
              const existing = read('package.json') !== undefined;
              const plan = planInit(files, { root, read, commonJsUsers: existing ? commonJsUsers(root, read('tsconfig.json')) : [] }, { name, force: opts.force ?? false, dirs: { pipelines: 'pipelines', generated: 'generated' } });
              const problems = report(io, plan.diagnostics, { root });
              if (hasErrors(plan.diagnostics)) return problems;
              for (const [rel, text] of plan.writes) {
                const abs = path.join(root, ...rel.split('/'));
                fs.mkdirSync(path.dirname(abs), { recursive: true });
                await writeFileAtomic(abs, text);
              }
              const shown = root === path.resolve(io.cwd) ? '.' : displayPath(io, root);
              io.out(
                (existing ? `added kiln project '${name}' to the npm project in ${shown}\n` : `created kiln project '${name}' in ${shown} (${plan.created} files)\n`) +
                  (plan.changes.length ? `\nexisting files:\n${plan.changes.map((c) => `  ${c}\n`).join('')}` : '') +
                  (existing ? `\nnew files: ${plan.created}\n` : '') +
                  `\nnext:\n` +
                  (shown === '.' ? '' : `  cd ${shown}\n`) +
                  `  npm install                  # kiln, TensorFlow.js and TypeScript\n` +
                  (insideGitRepository(root) ? `  git add -A && git commit -m "kiln init"\n` : `  git init && git add -A && git commit -m "kiln init"\n`) +
                  `  npx kiln run                 # train, evaluate, build and check the inference artifact\n` +
                  `  npx kiln publish             # on a clean main branch: version 1 becomes ${name}@production\n` +
                  (opts.ci === 'github' ? `\non GitHub, once: add the secret KILN_STORE_URL (the team's run store), so that jobs share runs;\nsee "Working as a team" in kiln's README\n` : ''),
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
