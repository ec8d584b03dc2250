// `kiln init` in a folder that already holds a project: which scaffold files are written, which of the team's files
// are merged (package.json, .gitignore: keys and lines added), kept (README.md, tsconfig.json) or in the way (any
// other file: refused unless --force). Pure: the existing files come in as text, the writes go out as a list.
import { diag } from '../diagnostics/diagnostic.ts';
import type { Diagnostic } from '../diagnostics/types.ts';
import { mergePackageJson, newPackageJson } from './init-package.ts';
import { checkTsconfig } from './init-tsconfig.ts';

export interface ExistingProject {
  root: string;
  /** The text of a project file, or undefined when there is none. */
  read(rel: string): string | undefined;
  /** The project's files that "type": "module" would turn from CommonJS into ES modules (empty when none). */
  commonJsUsers: string[];
}

export interface InitPlan {
  /** Files to write, in order; all or nothing. */
  writes: Array<[rel: string, text: string]>;
  /** How many of the writes are new files. */
  created: number;
  /** What happened to each file that was there already, one line each. */
  changes: string[];
  diagnostics: Diagnostic[];
}

const KEPT = new Set(['README.md', 'tsconfig.json']);

/** Equal .gitignore patterns written differently ("node_modules", "/node_modules/") count as present. */
const pattern = (line: string) => line.trim().replace(/^\//, '').replace(/\/$/, '');

function mergeGitignore(existing: string, scaffold: string): { text: string | null; added: string[] } {
  const have = new Set(existing.split(/\r?\n/).map(pattern));
  const added = scaffold.split('\n').filter((l) => l.trim() && !l.startsWith('#') && !have.has(pattern(l)));
  if (!added.length) return { text: null, added };
  const sep = existing === '' || existing.endsWith('\n') ? '' : '\n';
  return { text: `${existing}${sep}${existing.trim() ? '\n' : ''}# kiln: the run store, what runs write, published artifacts\n${added.join('\n')}\n`, added };
}

export function planInit(files: ReadonlyMap<string, string>, project: ExistingProject, opts: { name: string; force: boolean; dirs: { pipelines: string; generated: string } }): InitPlan {
  const plan: InitPlan = { writes: [], created: 0, changes: [], diagnostics: [] };
  const inTheWay: string[] = [];
  for (const [rel, text] of files) {
    const existing = project.read(rel);
    if (existing === undefined) {
      plan.writes.push([rel, rel === 'package.json' ? newPackageJson(opts.name) : text]);
      plan.created++;
      continue;
    }
    if (rel === 'package.json') {
      const merged = mergePackageJson(rel, existing, { commonJsUsers: project.commonJsUsers, force: opts.force });
      plan.diagnostics.push(...merged.diagnostics);
      if (merged.text !== null) plan.writes.push([rel, merged.text]);
      plan.changes.push(...(merged.changes.length ? merged.changes.map((c) => `package.json: ${c}`) : ['package.json: has everything kiln needs']), ...merged.kept.map((k) => `package.json: ${k}`));
    } else if (rel === '.gitignore') {
      const merged = mergeGitignore(existing, text);
      if (merged.text !== null) plan.writes.push([rel, merged.text]);
      plan.changes.push(merged.added.length ? `.gitignore: added ${merged.added.join(', ')}` : '.gitignore: ignores everything kiln writes already');
    } else if (KEPT.has(rel)) {
      plan.changes.push(`${rel}: yours, kept`);
      if (rel === 'tsconfig.json') {
        const problems = checkTsconfig(project.root, existing, opts.dirs);
        if (problems) plan.diagnostics.push(problems);
      }
    } else if (existing === text) {
      // Already what kiln would write (a second init): nothing to do, nothing lost.
    } else if (opts.force) {
      plan.writes.push([rel, text]);
      plan.changes.push(`${rel}: replaced (--force)`);
    } else inTheWay.push(rel);
  }
  if (inTheWay.length) {
    const shown = inTheWay.slice(0, 8).join(', ') + (inTheWay.length > 8 ? ', ...' : '');
    plan.diagnostics.push(diag('KILN7017', { count: inTheWay.length, files: shown }, { file: inTheWay[0], line: 1, column: 1, endLine: 1, endColumn: 2 }));
  }
  return plan;
}
