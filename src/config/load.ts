// Loading a project's declarations: kiln.yaml, then every catalog, parameters and pipeline file under the
// pipelines folder, each parsed with positions and validated. Also reads the files the declarations point at
// (record schemas, node modules) so that later stages do no I/O.
import path from 'node:path';
import { diag } from '../diagnostics/diagnostic.ts';
import type { Diagnostic } from '../diagnostics/types.ts';
import type { ProjectHost } from './host.ts';
import { parseYamlFile, locate, MAX_FILE_BYTES, type YamlFile } from './yaml.ts';
import { validateDeclaration } from './validate.ts';
import { normalizeProject, type RawProject } from './defaults.ts';
import type { ProjectSettings } from '../ir/types.ts';
import type { DeclarationKind } from './schemas.ts';

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
  // kiln writes generated/ and the store, reads the declarations and imports the hooks: all of them inside the project.
  const outside = ([['/pipelines', raw.pipelines], ['/generated', raw.generated], ['/store', raw.store]] as const).filter(([, p]) => p !== undefined && escapesRoot(p));
  for (const [pointer, p] of outside) out.diagnostics.push(diag('KILN1013', { path: p }, locate(projectFile, pointer)));
  const outsideHooks = settings.hooks.filter((h) => escapesRoot(h.module));
  for (const h of outsideHooks) out.diagnostics.push(diag('KILN1013', { path: h.module }, h.location));
  if (outside.length || outsideHooks.length) return out;
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

/** Reads record schemas and node modules named by valid declarations, so resolution and checks stay pure. */
async function readReferencedFiles(out: LoadedProject): Promise<void> {
  const wanted = new Set<string>();
  for (const c of out.catalogs) {
    if (!c.valid) continue;
    for (const entry of Object.values((c.value ?? {}) as Record<string, { schema?: string }>)) {
      if (entry?.schema) wanted.add(joinRel(c.file, entry.schema));
    }
  }
  for (const p of out.pipelines) {
    if (!p.valid) continue;
    const v = p.value as { nodes: Array<{ run?: string }>; model?: { input_schema?: string; output_schema?: string } };
    for (const n of v.nodes) if (n.run) wanted.add(joinRel(p.file, n.run.split('#')[0]));
    if (v.model?.input_schema) wanted.add(joinRel(p.file, v.model.input_schema));
    if (v.model?.output_schema) wanted.add(joinRel(p.file, v.model.output_schema));
  }
  for (const h of out.settings?.hooks ?? []) wanted.add(h.module);
  for (const rel of [...wanted].sort()) {
    if (escapesRoot(rel) || out.sources.has(rel)) continue;
    const size = await out.host.fileSize(rel);
    if (size === undefined || size > 8 * MAX_FILE_BYTES) continue;
    const text = await out.host.readFile(rel);
    if (text !== undefined) out.sources.set(rel, text);
  }
}

/** A path written relative to a declaration file, as a normalised project-relative path ('../x' when it escapes). */
export function joinRel(fromFile: string, ref: string): string {
  return path.posix.normalize(path.posix.join(path.posix.dirname(fromFile), ref));
}

/** Whether a project-relative path leaves the project (absolute, or climbing out with '..'). */
export function escapesRoot(p: string): boolean {
  if (path.isAbsolute(p) || /^[A-Za-z]:[\\/]/.test(p)) return true;
  const n = path.posix.normalize(p.replace(/\\/g, '/'));
  return n === '..' || n.startsWith('../');
}
