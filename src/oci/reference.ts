// `oci://<registry>/<repository>[:<tag>][@sha256:<hex>]`: the references kiln accepts for models on an OCI registry
// (publish.target, kiln serve, kiln predict), read by the grammar of the OCI distribution spec.
import { diag, KilnError } from '../diagnostics/diagnostic.ts';

export interface OciReference {
  /** host[:port], as credentials and messages name it. */
  registry: string;
  repository: string;
  tag?: string;
  /** sha256:<64 hex>. */
  digest?: string;
}

export const OCI_SCHEME = 'oci://';
const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const HOST = /^(?:\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?$/;

export const isOciReference = (text: string) => text.startsWith(OCI_SCHEME);

const bad = (ref: string, reason: string) => new KilnError(diag('KILN7055', { ref, reason }));

/** Reads `text` (which starts with oci://); KILN7055 saying what is wrong otherwise. */
export function parseOciReference(text: string): OciReference {
  if (!isOciReference(text)) throw bad(text, 'it does not start with oci://');
  let rest = text.slice(OCI_SCHEME.length);
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad(text, `'${digest}' is not a digest (sha256: and 64 lowercase hexadecimal characters)`);
  }
  const slash = rest.indexOf('/');
  if (slash <= 0) throw bad(text, 'it names no repository after the registry (oci://<registry>/<namespace>/<model>)');
  const registry = rest.slice(0, slash);
  if (!HOST.test(registry)) throw bad(text, `'${registry}' is not a registry host[:port]`);
  let repository = rest.slice(slash + 1);
  let tag: string | undefined;
  const colon = repository.lastIndexOf(':');
  if (colon >= 0) {
    tag = repository.slice(colon + 1);
    repository = repository.slice(0, colon);
    if (!TAG.test(tag)) throw bad(text, `'${tag}' is not a tag (letters, digits, ., _ and -, at most 128)`);
  }
  const wrong = repository.split('/').find((c) => !COMPONENT.test(c));
  if (wrong !== undefined) throw bad(text, `the repository path component '${wrong}' is not lowercase letters and digits separated by ., _ or -`);
  return { registry, repository, ...(tag !== undefined ? { tag } : {}), ...(digest ? { digest } : {}) };
}

export function formatOciReference(r: OciReference): string {
  return `${OCI_SCHEME}${r.registry}/${r.repository}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/**
 * The repository of `model` under a publish target: the target itself when its last component is the model's name
 * (oci://ghcr.io/acme/spam-filter), else <target>/<model> (oci://ghcr.io/acme holding every model of the project).
 */
export function modelRepository(target: string, model: string): OciReference {
  const t = parseOciReference(target);
  if (t.tag || t.digest) throw bad(target, 'a publish target names a repository, without a tag or digest (kiln publish chooses the tags)');
  const name = model.toLowerCase();
  if (!COMPONENT.test(name)) throw bad(`${target}/${model}`, `the model name '${model}' is not a valid repository component`);
  return t.repository.split('/').pop() === name ? t : { registry: t.registry, repository: `${t.repository}/${name}` };
}

/** Loopback registries speak plain HTTP (as docker does for localhost); every other one HTTPS. */
export function registryBaseUrl(registry: string): string {
  // Docker Hub is named docker.io in references, and served by registry-1.docker.io.
  if (registry === 'docker.io' || registry === 'index.docker.io') return 'https://registry-1.docker.io';
  const host = registry.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
  return `${loopback ? 'http' : 'https'}://${registry}`;
}
