// `kiln publish` to an oci:// target: push the verified artifact's blobs (skipping those the registry has), put its
// manifest by digest, then claim the next version tag. OCI has no compare-and-swap on tags, so the claim is
// check-before-tag, then check-after-tag once the other publishers' writes had time to land: a publish that finds
// its version tag overwritten takes the next number. The window left: a publisher whose check-before-tag came before
// our tag write and whose own write comes after our check-after-tag (more than SETTLE_MS later); see the README.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { MANIFEST_FILE } from '../artifact/manifest.ts';
import { diag, KilnError } from '../diagnostics/diagnostic.ts';
import { kilnOciManifest } from '../oci/kiln-artifact.ts';
import { OciModelRepository, type OciVersion } from './oci-registry.ts';
import { publishResult, verifiedRunArtifact, type PublishResult, type PublishStep } from './publish-step.ts';

/** How long a publisher waits between writing its version tag and checking that it still holds it. */
const SETTLE_MS = 500;
const ATTEMPTS = 5;

/** The metrics of the version `alias` points at in the registry, for `better_than`; null while the alias is unset. */
export async function ociBaseline(target: string, model: string, alias: string): Promise<{ alias: string; version: number; metrics: Record<string, number> } | null> {
  const v = await new OciModelRepository(target, model).aliasVersion(alias);
  return v ? { alias, version: v.version, metrics: v.facts.metrics } : null;
}

const manifestDigest = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

export async function publishToOci(s: PublishStep): Promise<PublishResult> {
  const { manifest, digest } = await verifiedRunArtifact(s);
  const repo = new OciModelRepository(s.target, s.model, { push: !s.dryRun });
  const tags = await repo.tags();
  let versions = await repo.versions(tags);
  const aliasNow = async () => (await repo.aliasVersion(s.alias))?.version ?? null;
  const result = (v: number, manifestDigest: string | null, previous: number | null, more: Partial<PublishResult> = {}) =>
    publishResult(s, Object.keys(manifest.files).length + 1, v, repo.ref(`v${v}`, manifestDigest ?? undefined), previous, more);
  // Published once per artifact digest (or run): a CI job that runs again adds nothing and moves the alias only when named.
  const already = async (earlier: OciVersion): Promise<PublishResult> => {
    const current = await aliasNow();
    const move = s.aliasAsked && !s.dryRun && current !== earlier.version;
    if (move) await repo.client.putManifest(s.alias, earlier.bytes);
    return result(earlier.version, earlier.manifestDigest, current, { alreadyPublished: true, aliasMoved: move, overrides: earlier.facts.overrides });
  };
  const same = (vs: OciVersion[]) => [...vs].reverse().find((v) => v.facts.digest === digest || v.facts.run === s.run.id);
  const earlier = same(versions);
  if (earlier) return already(earlier);
  if (s.dryRun) return result((versions[0]?.version ?? 0) + 1, null, await aliasNow());

  // Blobs first: a tag never points at content that is not all there.
  const files = Object.entries(manifest.files).sort(([a], [b]) => (a < b ? -1 : 1));
  const layers: Array<{ path: string; sha256: string; size: number }> = [];
  for (const [rel, sha] of files) {
    const file = path.join(s.artifactDir, ...rel.split('/'));
    const size = (await fs.promises.stat(file)).size;
    await repo.client.pushBlob(file, `sha256:${sha}`, size);
    layers.push({ path: rel, sha256: sha, size });
  }
  const configFile = path.join(s.artifactDir, MANIFEST_FILE);
  const configSize = (await fs.promises.stat(configFile)).size;
  await repo.client.pushBlob(configFile, `sha256:${digest}`, configSize);

  const metrics: Record<string, number> = {};
  for (const [k, m] of Object.entries(s.run.metrics)) metrics[k] = m.value;
  const created = new Date();
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const n = (versions[0]?.version ?? 0) + 1;
    const bytes = kilnOciManifest({ digest, size: configSize }, layers, { model: s.model, version: n, run: s.run.id, commit: s.head, branch: s.branch, metrics, overrides: s.overrides, created });
    const ours = manifestDigest(bytes);
    // Put by digest first: the content is in the registry before any tag names it.
    await repo.client.putManifest(ours, bytes);
    if ((await repo.client.tagDigest(`v${n}`)) === null) {
      await repo.client.putManifest(`v${n}`, bytes);
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      if ((await repo.client.tagDigest(`v${n}`)) === ours) {
        const previous = await aliasNow();
        await repo.client.putManifest(s.alias, bytes);
        await s.tracking.runs.setTag(s.run.id, `published.${s.model}`, `v${n}`);
        return result(n, ours, previous);
      }
    }
    // Another publisher took v<n>: if it published this same artifact, this publish is a republish.
    versions = await repo.versions();
    const won = same(versions);
    if (won) return already(won);
  }
  throw new KilnError(diag('KILN7056', { model: s.model, tag: `v${(versions[0]?.version ?? 0) + 1}`, ref: repo.ref(), attempts: ATTEMPTS }));
}

