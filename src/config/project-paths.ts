// The paths kiln.yaml names (pipelines, generated, store, hooks, publish.target, paths.allow): usable text, inside
// the project by their text and by where their symbolic links lead, and folders that cannot overwrite each other.
// Each would otherwise validate and fail later, half-way through a compile or a run, or write outside the project.
import path from 'node:path';
import { diag, isKilnError } from '../diagnostics/diagnostic.ts';
import type { Diagnostic, SourceLocation } from '../diagnostics/types.ts';
import type { ProjectSettings } from '../ir/types.ts';
import type { ProjectHost } from './host.ts';
import type { RawProject } from './defaults.ts';
import { escapesRoot } from './load.ts';
import { locate, type YamlFile } from './yaml.ts';
import { isOciReference } from '../oci/reference.ts';
import { ociTargetProblem } from './publish-target.ts';
import { isPostgresUrl, isStoreUrl, maskStoreUrl } from '../tracking/store-url.ts';

/** A publish target written as a URL (oci://..., left to the publish backend that handles its scheme), not a folder. */
export const isUrlTarget = (target: string) => /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(target);

/** NUL and the other control characters: no file system takes the first, and no person means the others in a path. */
const CONTROL = /[\u0000-\u001f\u007f]/;

const within = (dir: string, rel: string) => dir === '.' || rel === dir || rel.startsWith(`${dir}/`);

const insideAbs = (dir: string, abs: string) => {
  const rel = path.relative(dir, abs);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};

export async function checkProjectPaths(raw: RawProject, settings: ProjectSettings, host: ProjectHost, f: YamlFile): Promise<Diagnostic[]> {
  const out: Diagnostic[] = [];
  const at = (pointer: string) => locate(f, pointer);
  const named: Array<{ pointer: string; path: string; location: SourceLocation }> = [];
  for (const key of ['pipelines', 'generated', 'store'] as const) if (raw[key] !== undefined && !(key === 'store' && isStoreUrl(raw[key]!))) named.push({ pointer: `/${key}`, path: raw[key]!, location: at(`/${key}`) });
  settings.hooks.forEach((h, i) => named.push({ pointer: `/hooks/${i}`, path: h.module, location: h.location ?? at(`/hooks/${i}`) }));
  const target = raw.publish?.target;
  const plainTarget = target !== undefined && !isUrlTarget(target);
  if (target !== undefined) named.push({ pointer: '/publish/target', path: target, location: at('/publish/target') });
  (raw.paths?.allow ?? []).forEach((p, i) => named.push({ pointer: `/paths/allow/${i}`, path: p, location: at(`/paths/allow/${i}`) }));

  const bad = new Set<string>();
  // A URL target is published through the backend of its scheme; only oci:// has one, and its reference must read.
  if (target !== undefined && !plainTarget && !CONTROL.test(target)) {
    const reason = !isOciReference(target) ? `the scheme ${target.slice(0, target.indexOf('://') + 3)} has no publish backend` : ociTargetProblem(target);
    if (reason) {
      out.push(diag('KILN1027', { target, reason }, at('/publish/target')));
      bad.add('/publish/target');
    }
  }
  // A run store URL is opened by the store of its scheme; only postgres:// has one. Its ${NAME} references are read
  // when the store is opened, so that validating needs no secret.
  if (raw.store !== undefined && isStoreUrl(raw.store) && !isPostgresUrl(raw.store)) {
    out.push(diag('KILN1029', { store: maskStoreUrl(raw.store), source: '`store:` in kiln.yaml', reason: `the scheme ${raw.store.slice(0, raw.store.indexOf('://') + 3)} is not a run store` }, at('/store')));
  }
  for (const n of named) {
    if (CONTROL.test(n.path)) {
      out.push(diag('KILN1017', { path: JSON.stringify(n.path) }, n.location));
      bad.add(n.pointer);
    }
  }
  // A plain publish target may also lie under paths.allow, as datasets may: teams publish to a shared folder.
  const allowed = (abs: string) => settings.allowedPaths.some((a) => insideAbs(a, abs));
  const confined = named.filter((n) => !bad.has(n.pointer) && !n.pointer.startsWith('/paths/') && (n.pointer !== '/publish/target' || plainTarget));
  for (const n of confined) {
    if (!escapesRoot(n.path)) continue;
    if (n.pointer === '/publish/target' && allowed(path.resolve(host.root, n.path))) continue;
    out.push(diag('KILN1013', { path: n.path }, n.location));
    bad.add(n.pointer);
  }
  if (host.realPath) {
    const realRoot = await host.realPath('');
    for (const n of confined) {
      if (bad.has(n.pointer) || realRoot === undefined) continue;
      const real = await host.realPath(path.posix.normalize(n.path.replace(/\\/g, '/')));
      if (real === undefined || insideAbs(realRoot, real) || (n.pointer === '/publish/target' && allowed(real))) continue;
      out.push(diag('KILN1019', { path: n.path, real }, n.location));
      bad.add(n.pointer);
    }
  }

  // kiln writes into generated/ and the store: each must be a folder, and neither may hold the declarations or the other.
  const folders = [
    { key: 'generated', dir: settings.generatedDir, what: 'the generated code' },
    { key: 'store', dir: settings.storeDir, what: 'the run store' },
  ] as const;
  for (const { key, dir } of folders) {
    if (bad.has(`/${key}`)) continue;
    const location = raw[key] !== undefined ? at(`/${key}`) : at('');
    const problem = (text: string, fix: string) => out.push(diag('KILN1018', { key, path: dir, problem: text, fix }, location));
    if (dir !== '.' && (await host.fileSize(dir)) !== undefined) {
      problem('is a file', `\`${key}:\` names a folder kiln writes into; choose a folder name that is not a file, such as ${key === 'generated' ? 'generated' : '.kiln'}.`);
      continue;
    }
    if (within(dir, settings.pipelinesDir)) {
      problem(`is or contains the pipelines folder '${settings.pipelinesDir}'`, `kiln writes ${key === 'generated' ? 'generated modules' : 'run records and objects'} there and would overwrite or mix with the declarations and node code; use a folder of its own, such as ${key === 'generated' ? 'generated' : '.kiln'}.`);
      continue;
    }
    const other = folders.find((o) => o.key !== key)!;
    if (key === 'generated' ? within(dir, other.dir) : within(dir, other.dir) && dir !== other.dir) {
      problem(`is or contains the folder of ${other.what} ('${other.dir}')`, `Keep generated code and the run store in separate folders, such as generated and .kiln.`);
    }
  }
  return out;
}
