// The model registry when publish.target is oci://: the OCI repository of a model is the registry itself. Version
// tags v1, v2, … never move; every other tag is an alias that does (production). Nothing is kept locally, so every
// machine that reads the repository sees the same versions and aliases.
import { diag, KilnError } from '../diagnostics/diagnostic.ts';
import { OciClient } from '../oci/client.ts';
import { factsOf, readKilnOciManifest, type KilnOciManifest } from '../oci/kiln-artifact.ts';
import { formatOciReference, modelRepository } from '../oci/reference.ts';
import type { ModelDetail, ModelSelector, ModelVersion } from '../tracking/registry.ts';

const VERSION_TAG = /^v(\d+)$/;
const ALIAS_TAG = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

export interface OciVersion {
  version: number;
  /** Digest of the OCI manifest bytes (what tags point at). */
  manifestDigest: string;
  bytes: Buffer;
  manifest: KilnOciManifest;
  facts: ReturnType<typeof factsOf>;
}

export class OciModelRepository {
  readonly client: OciClient;
  readonly model: string;

  constructor(target: string, model: string, opts: { push?: boolean } = {}) {
    this.client = new OciClient(modelRepository(target, model), { push: opts.push ?? false });
    this.model = model;
  }

  ref(tag?: string, digest?: string): string {
    return formatOciReference({ registry: this.client.registry, repository: this.client.repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) });
  }

  async tags(): Promise<string[]> {
    return this.client.listTags();
  }

  /** The version behind tag v<n>, read and checked; null when the tag does not exist. */
  async version(n: number): Promise<OciVersion | null> {
    const got = await this.client.getManifest(`v${n}`);
    if (!got) return null;
    const manifest = readKilnOciManifest(got.bytes, this.ref(`v${n}`));
    return { version: n, manifestDigest: got.digest, bytes: got.bytes, manifest, facts: factsOf(manifest) };
  }

  /** Every version, newest first. */
  async versions(tags?: string[]): Promise<OciVersion[]> {
    const numbers = (tags ?? (await this.tags())).map((t) => VERSION_TAG.exec(t)).filter((m) => m !== null).map((m) => Number(m[1])).sort((a, b) => b - a);
    const out = await Promise.all(numbers.map((n) => this.version(n)));
    return out.filter((v): v is OciVersion => v !== null);
  }

  /** alias → version, for every alias tag that points at a version's manifest. */
  async aliases(tags: string[], versions: OciVersion[]): Promise<Record<string, number>> {
    const byDigest = new Map(versions.map((v) => [v.manifestDigest, v.version]));
    const out: Record<string, number> = {};
    for (const t of tags.filter((t) => ALIAS_TAG.test(t) && !VERSION_TAG.test(t) && t !== 'latest').sort()) {
      const d = await this.client.tagDigest(t);
      const v = d ? byDigest.get(d) : undefined;
      if (v !== undefined) out[t] = v;
    }
    return out;
  }

  /** The version an alias points at, or null when the alias is not set. */
  async aliasVersion(alias: string): Promise<OciVersion | null> {
    const got = await this.client.getManifest(alias);
    if (!got) return null;
    const manifest = readKilnOciManifest(got.bytes, this.ref(alias));
    const facts = factsOf(manifest);
    if (facts.version === null) throw new KilnError(diag('KILN7054', { ref: this.ref(alias), reason: 'its manifest has no org.opencontainers.image.version annotation v<n>' }));
    return { version: facts.version, manifestDigest: got.digest, bytes: got.bytes, manifest, facts };
  }

  private missing(what: string, name: string, tags: string[]): KilnError {
    return new KilnError(diag('KILN7057', { ref: this.ref(), repository: this.client.repository, registry: this.client.registry, what, name, available: tags.join(', ') || '(none: nothing published yet)' }));
  }

  async resolve(selector: ModelSelector): Promise<OciVersion> {
    if (selector.kind === 'alias') {
      const v = await this.aliasVersion(selector.alias);
      if (!v) throw this.missing('alias', selector.alias, await this.tags());
      return v;
    }
    if (selector.kind === 'version') {
      const v = await this.version(selector.version);
      if (!v) throw this.missing('version', `v${selector.version}`, await this.tags());
      return v;
    }
    const tags = await this.tags();
    const newest = (await this.versions(tags))[0];
    if (!newest) throw this.missing('version', 'latest', tags);
    return newest;
  }

  /** As the local registry shows a model, so that `kiln registry show|list` print both alike. */
  async detail(): Promise<ModelDetail | null> {
    const tags = await this.tags();
    const versions = await this.versions(tags);
    if (!versions.length) return null;
    const aliases = await this.aliases(tags, versions);
    const rows: ModelVersion[] = versions.map((v) => ({
      model: this.model,
      version: v.version,
      artifactPath: this.ref(`v${v.version}`),
      artifactSha256: v.facts.digest,
      runId: v.facts.run,
      commit: v.facts.commit,
      createdAt: v.facts.created,
      description: null,
      overrides: v.facts.overrides,
      aliases: Object.entries(aliases).filter(([, n]) => n === v.version).map(([a]) => a).sort(),
    }));
    return { name: this.model, createdAt: rows[rows.length - 1].createdAt, description: null, latestVersion: versions[0].version, versionCount: versions.length, aliases, versions: rows };
  }

  /** Points `alias` at v<version> after checking that every blob of it is in the registry; returns where it was. */
  async setAlias(alias: string, version: number): Promise<{ previous: number | null; artifact: string }> {
    const v = await this.version(version);
    if (!v) throw this.missing('version', `v${version}`, await this.tags());
    for (const d of [v.manifest.config, ...v.manifest.layers]) {
      if (!(await this.client.hasBlob(d.digest))) throw new KilnError(diag('KILN7015', { model: this.model, version, path: `${this.ref(`v${version}`)} (blob ${d.digest} is gone)` }));
    }
    const previous = (await this.aliasVersion(alias).catch(() => null))?.version ?? null;
    await this.client.putManifest(alias, v.bytes);
    return { previous, artifact: this.ref(`v${version}`) };
  }

  /**
   * Moves `alias` back: to `to`, else to the newest version below the one it points at. A registry keeps no history of
   * a tag, so "back" is by version number: after v1 → v2 → v3, rollbacks go to v2, then v1.
   */
  async rollback(alias: string, to?: number): Promise<{ previous: number | null; version: number; artifact: string }> {
    const current = await this.aliasVersion(alias);
    let target = to;
    if (target === undefined) {
      if (!current) throw new KilnError(diag('KILN7014', { model: this.model, alias, reason: `the tag ${alias} is not set in ${this.ref()}` }));
      const below = (await this.versions()).find((v) => v.version < current.version);
      if (!below) throw new KilnError(diag('KILN7014', { model: this.model, alias, reason: `v${current.version} is the first version in ${this.ref()}; there is nothing earlier to go back to` }));
      target = below.version;
    } else if (current?.version === target) {
      throw new KilnError(diag('KILN7014', { model: this.model, alias, reason: `it already points at v${target}` }));
    }
    const moved = await this.setAlias(alias, target);
    return { ...moved, version: target };
  }
}
