// Loading a project's declarations: kiln.yaml, then every catalog, parameters and pipeline file under the
// pipelines folder, each parsed with positions and validated. Also reads the files the declarations point at
// (record schemas, node modules) so that later stages do no I/O.
import path from 'node:path';
import { escapesRoot, joinRel } from './project-relative.ts';
import { diag } from '../diagnostics/diagnostic.ts';
import type { Diagnostic, SourceLocation } from '../diagnostics/types.ts';
import type { ProjectHost } from './host.ts';
import { parseYamlFile, locate, MAX_FILE_BYTES, type YamlFile } from './yaml.ts';
import { validateDeclaration } from './validate.ts';
import { normalizeProject, type RawProject } from './defaults.ts';
import type { ProjectSettings } from '../ir/types.ts';
import type { DeclarationKind } from './schemas.ts';
import { checkProjectPaths } from './project-paths.ts';
import { publishTargetOverride } from './publish-target.ts';
import { checkObjectsSetting } from './objects-remote.ts';

export interface LoadedFile extends YamlFile {
  kind: DeclarationKind;
  /** Whether the file passed schema validation (its value can be trusted to have the schema's shape). */
  valid: boolean;
}

export interface LoadedProject {
  host: ProjectHost;
  settings: ProjectSettings | null;
  projectFile: LoadedFile | null;
  catalogs: LoadedFile[];
  parameters: LoadedFile[];
  pipelines: LoadedFile[];
  /** Every text read (declarations, record schemas, node modules), by project-relative path. */
  sources: Map<string, string>;
  diagnostics: Diagnostic[];
}

export const PROJECT_FILE = 'kiln.yaml';

export function classify(relPath: string, pipelinesDir: string): DeclarationKind | null {
  const prefix = pipelinesDir === '.' ? '' : `${pipelinesDir}/`;
  if (!relPath.startsWith(prefix)) return null;
  const base = path.posix.basename(relPath);
  if (!/\.ya?ml$/.test(base)) return null;
  if (/^catalog(\.[\w-]+)*\.ya?ml$/.test(base)) return 'catalog';
  if (/^parameters(\.[\w-]+)*\.ya?ml$/.test(base)) return 'parameters';
  if (/^pipeline\.ya?ml$/.test(base) || /\.pipeline\.ya?ml$/.test(base)) return 'pipeline';
  return null;
}

async function readDeclaration(host: ProjectHost, rel: string, kind: DeclarationKind, out: LoadedProject): Promise<LoadedFile | null> {
  const size = await host.fileSize(rel);
  if (size === undefined) return null;
  if (size > MAX_FILE_BYTES) {
    out.diagnostics.push(diag('KILN1003', { size, limit: MAX_FILE_BYTES }, { file: rel, line: 1, column: 1, endLine: 1, endColumn: 1 }));
    return null;
  }
  const text = (await host.readFile(rel)) ?? '';
  out.sources.set(rel, text);
  const { file, diagnostics } = parseYamlFile(rel, text);
  out.diagnostics.push(...diagnostics);
  if (diagnostics.length > 0) return { ...file, kind, valid: false };
  const schemaErrors = validateDeclaration(kind, file);
  out.diagnostics.push(...schemaErrors);
  return { ...file, kind, valid: schemaErrors.length === 0 };
}

export async function loadProject(host: ProjectHost): Promise<LoadedProject> {
  const out: LoadedProject = { host, settings: null, projectFile: null, catalogs: [], parameters: [], pipelines: [], sources: new Map(), diagnostics: [] };
  const projectFile = await readDeclaration(host, PROJECT_FILE, 'project', out);
  if (!projectFile) {
    out.diagnostics.push(diag('KILN1011', { what: 'project file', path: path.join(host.root, PROJECT_FILE), fix: 'Run kiln in the project root (the folder with kiln.yaml), pass --project <dir>, or create a project with `kiln init`.' }));
    return out;
  }
  out.projectFile = projectFile;
  if (!projectFile.valid) return out;
  const raw = projectFile.value as RawProject;
  const hookLocations = (raw.hooks ?? []).map((_, i) => locate(projectFile, `/hooks/${i}`));
  const settings = normalizeProject(raw, host.root, locate(projectFile, ''), hookLocations);
  if (raw.generated !== undefined) settings.generatedLocation = locate(projectFile, '/generated');
  // kiln writes generated/ and the store, reads the declarations and imports the hooks: all of them inside the project.
  const pathProblems = [...(await checkProjectPaths(raw, settings, host, projectFile)), ...(raw.objects !== undefined ? checkObjectsSetting(raw.objects, locate(projectFile, '/objects')) : [])];
  out.diagnostics.push(...pathProblems);
  if (pathProblems.length) return out;
  const override = publishTargetOverride();
  if (override && 'problem' in override) {
    out.diagnostics.push(override.problem);
    return out;
  }
  if (override) settings.publish.target = override.target;
  out.settings = settings;
  if (host.packageJson) {
    const pkg = await host.packageJson();
    if (!pkg || pkg.type !== 'module') {
      out.diagnostics.push(diag('KILN1015', { reason: pkg ? `${pkg.path} does not say "type": "module"` : 'there is no package.json at or above the project root', file: pkg ? pkg.path : 'package.json' }, locate(projectFile, '')));
    }
  }

  const files = await host.listFiles(out.settings.pipelinesDir === '.' ? '' : out.settings.pipelinesDir);
  if (files.length === 0) {
    out.diagnostics.push(diag('KILN1011', { what: 'pipelines folder', path: out.settings.pipelinesDir, fix: "Create it with a catalog.yaml, parameters.yaml and pipeline.yaml, or point 'pipelines:' in kiln.yaml at the right folder." }, locate(projectFile, raw.pipelines ? '/pipelines' : '')));
    return out;
  }
  for (const rel of files) {
    const kind = classify(rel, out.settings.pipelinesDir);
    if (!kind) continue;
    const f = await readDeclaration(host, rel, kind, out);
    if (!f) continue;
    if (kind === 'catalog') out.catalogs.push(f);
    else if (kind === 'parameters') out.parameters.push(f);
    else if (kind === 'pipeline') out.pipelines.push(f);
  }
  await readReferencedFiles(out);
  return out;
}

/**
 * Reads record schemas and node modules named by valid declarations, so resolution and checks stay pure. A file
 * reached through a symbolic link that leads outside the project is refused (KILN1019) and not read, as kiln would
 * otherwise import or trust code from anywhere; a hook module that does not exist is an error here, where its
 * kiln.yaml line is known (node modules and schemas are reported by the checks that use them).
 */
async function readReferencedFiles(out: LoadedProject): Promise<void> {
  const wanted = new Map<string, SourceLocation>();
  const want = (rel: string, location: SourceLocation) => {
    if (!wanted.has(rel)) wanted.set(rel, location);
  };
  for (const c of out.catalogs) {
    if (!c.valid) continue;
    for (const [name, entry] of Object.entries((c.value ?? {}) as Record<string, { schema?: string }>)) {
      if (entry?.schema) want(joinRel(c.file, entry.schema), locate(c, `/${name.replace(/~/g, '~0').replace(/\//g, '~1')}/schema`));
    }
  }
  for (const p of out.pipelines) {
    if (!p.valid) continue;
    const v = p.value as { nodes: Array<{ run?: string }>; model?: { input_schema?: string; output_schema?: string } };
    v.nodes.forEach((n, i) => {
      if (n.run) want(joinRel(p.file, n.run.split('#')[0]), locate(p, `/nodes/${i}/run`));
    });
    if (v.model?.input_schema) want(joinRel(p.file, v.model.input_schema), locate(p, '/model/input_schema'));
    if (v.model?.output_schema) want(joinRel(p.file, v.model.output_schema), locate(p, '/model/output_schema'));
  }
  const hooks = new Set<string>();
  for (const h of out.settings?.hooks ?? []) {
    hooks.add(h.module);
    want(h.module, h.location ?? { file: PROJECT_FILE, line: 1, column: 1, endLine: 1, endColumn: 1 });
  }
  const realRoot = out.host.realPath ? await out.host.realPath('') : undefined;
  for (const [rel, location] of [...wanted.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (escapesRoot(rel) || out.sources.has(rel)) continue;
    if (realRoot !== undefined) {
      const real = await out.host.realPath!(rel);
      const inside = real !== undefined && !path.relative(realRoot, real).startsWith('..') && !path.isAbsolute(path.relative(realRoot, real));
      if (real !== undefined && !inside) {
        out.diagnostics.push(diag('KILN1019', { path: rel, real }, location));
        continue;
      }
    }
    const size = await out.host.fileSize(rel);
    if (size === undefined && hooks.has(rel)) {
      out.diagnostics.push(diag('KILN1011', { what: 'hook module', path: rel, fix: "Hook modules are relative to the project root; create the file or fix the path under `hooks:` in kiln.yaml." }, location));
      continue;
    }
    if (size === undefined || size > 8 * MAX_FILE_BYTES) continue;
    const text = await out.host.readFile(rel);
    if (text !== undefined) out.sources.set(rel, text);
  }
}

// Pure path arithmetic, in its own module so that the checks can use it without loading the YAML loader.
export { escapesRoot, joinRel } from './project-relative.ts';
