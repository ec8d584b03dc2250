// Defaults of kiln.yaml, filled in one place right after validation; no later stage re-derives one.
import path from 'node:path';
import type { ProjectSettings } from '../ir/types.ts';
import type { SourceLocation } from '../diagnostics/types.ts';
import type { KilnProject } from '../types/kiln.ts';
import { isStoreUrl } from '../tracking/store-url.ts';

export const DEFAULTS = {
  pipelines: 'pipelines',
  generated: 'generated',
  store: '.kiln',
  mainBranch: 'main',
  backend: 'auto',
} as const;

/** kiln.yaml as validated, generated from schema/kiln.schema.json (npm run gen:types). */
export type RawProject = KilnProject;

const clean = (p: string) => p.replace(/\\/g, '/').replace(/\/+$/, '').replace(/^\.\//, '') || '.';

export function normalizeProject(raw: RawProject, root: string, location?: SourceLocation, hookLocations: Array<SourceLocation | undefined> = []): ProjectSettings {
  return {
    name: raw.name,
    root,
    pipelinesDir: clean(raw.pipelines ?? DEFAULTS.pipelines),
    generatedDir: clean(raw.generated ?? DEFAULTS.generated),
    // `store:` as a URL (postgres://) moves the runs to a server; objects and caches keep the default folder.
    storeDir: clean(raw.store !== undefined && !isStoreUrl(raw.store) ? raw.store : DEFAULTS.store),
    mainBranch: raw.git?.main ?? DEFAULTS.mainBranch,
    backend: raw.backend ?? DEFAULTS.backend,
    allowedPaths: (raw.paths?.allow ?? []).map((p) => path.resolve(root, p)),
    hooks: (raw.hooks ?? []).map((ref, i) => {
      const [module, exp] = ref.split('#');
      const loc = hookLocations[i];
      return loc ? { module: path.posix.normalize(module), export: exp, location: loc } : { module: path.posix.normalize(module), export: exp };
    }),
    publish: { target: raw.publish?.target ? clean(raw.publish.target) : null },
    ...(raw.argo ? { argo: raw.argo } : {}),
    objects: raw.objects ?? null,
    ...(location ? { location } : {}),
  };
}
