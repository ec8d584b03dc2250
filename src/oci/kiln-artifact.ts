// How a kiln artifact folder is an OCI artifact: an image manifest with kiln's artifactType, kiln's manifest.json as
// the config blob (so the config digest is the artifact digest kiln records), and one layer per listed file (so
// that each blob is verified as it streams in, and a new version re-uploads only the files that changed).
import { diag, KilnError } from '../diagnostics/diagnostic.ts';
import { OCI_MANIFEST } from './client.ts';

export const KILN_ARTIFACT_TYPE = 'application/vnd.kiln.artifact.v1';
export const KILN_CONFIG_TYPE = 'application/vnd.kiln.artifact.manifest.v1+json';
export const KILN_FILE_TYPE = 'application/vnd.kiln.artifact.file.v1';
const TITLE = 'org.opencontainers.image.title';

/** Annotation keys: OCI's where they fit, dev.kiln.* for the rest. */
export const ANNOTATION = {
  created: 'org.opencontainers.image.created',
  version: 'org.opencontainers.image.version',
  revision: 'org.opencontainers.image.revision',
  title: TITLE,
  model: 'dev.kiln.model',
  run: 'dev.kiln.run-id',
  branch: 'dev.kiln.branch',
  metrics: 'dev.kiln.metrics',
  digest: 'dev.kiln.digest',
  overrides: 'dev.kiln.overrides',
} as const;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export interface KilnOciManifest {
  schemaVersion: 2;
  mediaType: typeof OCI_MANIFEST;
  artifactType: typeof KILN_ARTIFACT_TYPE;
  config: Descriptor;
  layers: Descriptor[];
  annotations: Record<string, string>;
}

export interface VersionFacts {
  model: string;
  version: number;
  run: string;
  commit: string;
  branch: string;
  metrics: Record<string, number>;
  overrides: string[];
  created: Date;
}

/** The OCI manifest of an artifact whose manifest.json is `config` and whose files are `files` (path → sha256, size). */
export function kilnOciManifest(config: { digest: string; size: number }, files: Array<{ path: string; sha256: string; size: number }>, facts: VersionFacts): Buffer {
  const m: KilnOciManifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: KILN_ARTIFACT_TYPE,
    config: { mediaType: KILN_CONFIG_TYPE, digest: `sha256:${config.digest}`, size: config.size },
    layers: files.map((f) => ({ mediaType: KILN_FILE_TYPE, digest: `sha256:${f.sha256}`, size: f.size, annotations: { [TITLE]: f.path } })),
    annotations: {
      [ANNOTATION.created]: facts.created.toISOString(),
      [ANNOTATION.version]: `v${facts.version}`,
      [ANNOTATION.revision]: facts.commit,
      [ANNOTATION.title]: facts.model,
      [ANNOTATION.model]: facts.model,
      [ANNOTATION.run]: facts.run,
      [ANNOTATION.branch]: facts.branch,
      [ANNOTATION.metrics]: JSON.stringify(facts.metrics),
      [ANNOTATION.digest]: config.digest,
      ...(facts.overrides.length ? { [ANNOTATION.overrides]: JSON.stringify(facts.overrides) } : {}),
    },
  };
  return Buffer.from(JSON.stringify(m));
}

const isDescriptor = (d: unknown): d is Descriptor => {
  const x = d as Descriptor;
  return typeof x === 'object' && x !== null && typeof x.digest === 'string' && /^sha256:[a-f0-9]{64}$/.test(x.digest) && Number.isSafeInteger(x.size) && x.size >= 0;
};

/** Reads manifest bytes as a kiln artifact; KILN7054 saying why not otherwise. */
export function readKilnOciManifest(bytes: Buffer, ref: string): KilnOciManifest {
  const bad = (reason: string) => new KilnError(diag('KILN7054', { ref, reason }));
  let m: KilnOciManifest;
  try {
    m = JSON.parse(bytes.toString('utf8')) as KilnOciManifest;
  } catch {
    throw bad('its manifest is not JSON');
  }
  if (m?.artifactType !== KILN_ARTIFACT_TYPE && m?.config?.mediaType !== KILN_CONFIG_TYPE) throw bad(`its artifactType is ${JSON.stringify(m?.artifactType ?? m?.config?.mediaType ?? null)}`);
  if (!isDescriptor(m.config) || !Array.isArray(m.layers) || !m.layers.every(isDescriptor)) throw bad('its config or layers are not valid descriptors');
  m.annotations ??= {};
  if (m.annotations[ANNOTATION.digest] !== undefined && `sha256:${m.annotations[ANNOTATION.digest]}` !== m.config.digest) throw bad('its dev.kiln.digest annotation is not the digest of its config (kiln\'s manifest.json)');
  for (const l of m.layers) {
    const p = l.annotations?.[TITLE];
    if (!p || p.split('/').some((c) => c === '' || c === '.' || c === '..') || p.startsWith('/') || p.includes('\\') || p === 'manifest.json') throw bad(`layer ${l.digest.slice(7, 19)} names no file inside the artifact (${JSON.stringify(p ?? null)})`);
  }
  return m;
}

/** What a version's annotations say about it. */
export function factsOf(m: KilnOciManifest): { version: number | null; run: string | null; commit: string | null; created: number; metrics: Record<string, number>; overrides: string[]; digest: string } {
  const a = m.annotations;
  const json = <T>(text: string | undefined, fallback: T): T => {
    try {
      return text ? (JSON.parse(text) as T) : fallback;
    } catch {
      return fallback;
    }
  };
  const v = /^v(\d+)$/.exec(a[ANNOTATION.version] ?? '');
  const created = Date.parse(a[ANNOTATION.created] ?? '');
  return {
    version: v ? Number(v[1]) : null,
    run: a[ANNOTATION.run] ?? null,
    commit: a[ANNOTATION.revision] ?? null,
    created: Number.isNaN(created) ? 0 : created,
    metrics: json(a[ANNOTATION.metrics], {}),
    overrides: json(a[ANNOTATION.overrides], []),
    digest: m.config.digest.slice(7),
  };
}
