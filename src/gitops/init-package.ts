// What a kiln project needs in its package.json, written fresh for a new project or merged into a team's own one
// (`kiln init` in an existing npm project): keys are added, a user's value is never replaced. Pure: text in, text out.
import { readFileSync } from 'node:fs';
import { diag } from '../diagnostics/diagnostic.ts';
import type { Diagnostic, SourceLocation } from '../diagnostics/types.ts';
import { locate, parseYamlFile } from '../config/yaml.ts';
import { kilnPackage, kilnVersion } from '../version.ts';

const kilnManifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };

/** The package whose install script builds kiln's run store (SQLite); npm 11 wants the root project to approve it. */
export const STORE_BINDING = 'better-sqlite3';

/**
 * What kiln adds. TensorFlow.js is listed although kiln depends on it: the project's node code and the artifact it
 * bundles import it, and a project must not rely on a dependency's dependency being hoisted next to it.
 */
export function kilnRequirements(): { dependencies: Record<string, string>; devDependencies: Record<string, string>; scripts: Record<string, string> } {
  return {
    dependencies: { [kilnPackage]: `^${kilnVersion}`, '@tensorflow/tfjs': kilnManifest.dependencies['@tensorflow/tfjs'] },
    devDependencies: { typescript: kilnManifest.dependencies.typescript },
    scripts: { validate: 'kiln validate', compile: 'kiln compile', train: 'kiln run', plan: 'kiln plan' },
  };
}

export function newPackageJson(name: string): string {
  const needs = kilnRequirements();
  const pkg = {
    name: name.toLowerCase().replace(/^[._]+/, ''),
    version: '0.1.0',
    private: true,
    type: 'module',
    scripts: needs.scripts,
    dependencies: needs.dependencies,
    devDependencies: needs.devDependencies,
    allowScripts: { [STORE_BINDING]: true },
  };
  return JSON.stringify(pkg, null, 2) + '\n';
}

export interface PackageMerge {
  /** The new text, or null when nothing had to change. */
  text: string | null;
  /** What was added or changed, one line each, for the user. */
  changes: string[];
  /** What was left as the user had it although kiln would have written something else. */
  kept: string[];
  diagnostics: Diagnostic[];
}

export interface MergeOptions {
  /** Why "type": "module" cannot be added safely (CommonJS files that would change meaning); empty when it can. */
  commonJsUsers: string[];
  force: boolean;
}

type Json = Record<string, unknown>;

/** Where JSON.parse stopped, as a location in `text`. */
function parseErrorLocation(file: string, text: string, message: string): SourceLocation {
  const m = /position (\d+)/.exec(message);
  const at = m ? Math.min(Number(m[1]), text.length) : 0;
  const before = text.slice(0, at).split('\n');
  const line = before.length;
  const column = before[before.length - 1].length + 1;
  return { file, line, column, endLine: line, endColumn: column + 1 };
}

/** The indentation the file already uses, so that a merged file diffs only where keys were added. */
function indentOf(text: string): string | number {
  const m = /^[{[][^\n]*\n([ \t]+)\S/.exec(text);
  return m ? m[1] : 2;
}

function addKeys(pkg: Json, section: string, wanted: Record<string, string>, changes: string[], alsoIn: string[] = []): void {
  const existing = (pkg[section] ?? {}) as Json;
  const added: string[] = [];
  for (const [k, v] of Object.entries(wanted)) {
    if (k in existing || alsoIn.some((s) => k in ((pkg[s] ?? {}) as Json))) continue;
    existing[k] = v;
    added.push(`${k} ${v}`);
  }
  if (added.length) {
    pkg[section] = existing;
    changes.push(`${section}: added ${added.join(', ')}`);
  }
}

/**
 * Merges kiln's needs into an existing package.json: dependencies and devDependencies that are absent, the scripts
 * (a name the project already uses gets a `kiln:` prefix instead), npm's approval of the store binding's install
 * script, and "type": "module" unless that would change what the project's own CommonJS files mean.
 */
export function mergePackageJson(file: string, text: string, opts: MergeOptions): PackageMerge {
  const out: PackageMerge = { text: null, changes: [], kept: [], diagnostics: [] };
  let pkg: unknown;
  try {
    pkg = JSON.parse(text);
  } catch (e) {
    out.diagnostics.push(diag('KILN7031', { file, reason: (e as Error).message }, parseErrorLocation(file, text, (e as Error).message)));
    return out;
  }
  const where = (pointer: string) => locate(parseYamlFile(file, text).file, pointer, true);
  if (typeof pkg !== 'object' || pkg === null || Array.isArray(pkg)) {
    out.diagnostics.push(diag('KILN7031', { file, reason: 'it is not a JSON object' }, where('')));
    return out;
  }
  const json = pkg as Json;
  for (const section of ['dependencies', 'devDependencies', 'scripts', 'allowScripts'])
    if (json[section] !== undefined && (typeof json[section] !== 'object' || json[section] === null || Array.isArray(json[section])))
      out.diagnostics.push(diag('KILN7031', { file, reason: `"${section}" is not an object` }, where(`/${section}`)));
  if (out.diagnostics.length) return out;

  if (json.type !== 'module') {
    const current = json.type === undefined ? 'no "type" (CommonJS)' : `"type": ${JSON.stringify(json.type)}`;
    if (opts.commonJsUsers.length && !opts.force) {
      out.diagnostics.push(diag('KILN7032', { file, current, users: opts.commonJsUsers.join(', ') }, json.type === undefined ? { file, line: 1, column: 1, endLine: 1, endColumn: 2 } : where('/type')));
      return out;
    }
    json.type = 'module';
    out.changes.push(`type: "module" (was ${current}${opts.commonJsUsers.length ? `; --force: ${opts.commonJsUsers.join(', ')} now load as ES modules` : ''})`);
  }

  const needs = kilnRequirements();
  addKeys(json, 'dependencies', needs.dependencies, out.changes, ['devDependencies']);
  addKeys(json, 'devDependencies', needs.devDependencies, out.changes, ['dependencies']);

  const scripts = (json.scripts ?? {}) as Json;
  const addedScripts: string[] = [];
  for (const [name, command] of Object.entries(needs.scripts)) {
    if (scripts[name] === command) continue;
    const free = scripts[name] === undefined ? name : scripts[`kiln:${name}`] === undefined || scripts[`kiln:${name}`] === command ? `kiln:${name}` : null;
    if (free === null) {
      out.kept.push(`scripts.${name} and scripts.kiln:${name} are yours; run \`${command}\` with npx`);
      continue;
    }
    if (scripts[free] === command) continue;
    scripts[free] = command;
    addedScripts.push(free === name ? `${name}` : `${free} (scripts.${name} is yours)`);
  }
  if (addedScripts.length) {
    json.scripts = scripts;
    out.changes.push(`scripts: added ${addedScripts.join(', ')}`);
  }

  const allow = (json.allowScripts ?? {}) as Json;
  if (allow[STORE_BINDING] === undefined) {
    allow[STORE_BINDING] = true;
    json.allowScripts = allow;
    out.changes.push(`allowScripts: approved ${STORE_BINDING} (its install script builds kiln's run store; npm 11 warns about install scripts the project has not approved, and says a later release will skip them)`);
  } else if (allow[STORE_BINDING] !== true) {
    out.diagnostics.push(diag('KILN7034', { file, value: JSON.stringify(allow[STORE_BINDING]), binding: STORE_BINDING }, where(`/allowScripts/${STORE_BINDING}`)));
  }

  if (out.changes.length) out.text = JSON.stringify(json, null, indentOf(text)) + (text.endsWith('\n') ? '\n' : '');
  return out;
}
