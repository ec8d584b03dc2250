// Where the credentials for an OCI registry come from: the environment first (CI sets it), then the Docker config
// file that `docker login` writes. Never from kiln.yaml, and never written anywhere by kiln.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface RegistryCredential {
  username: string;
  password: string;
  /** Where it came from, for messages (never the secret itself). */
  source: string;
}

export const USERNAME_VAR = 'KILN_REGISTRY_USERNAME';
export const PASSWORD_VAR = 'KILN_REGISTRY_PASSWORD';

/** What a user sets to authenticate to `registry`, for the message of a refused request. */
export function credentialAdvice(registry: string): string {
  const ghcr = registry === 'ghcr.io' ? ' (for ghcr.io in GitHub Actions, GITHUB_TOKEN with packages: write to publish)' : '';
  return `set ${USERNAME_VAR} and ${PASSWORD_VAR}${ghcr}, or log in with \`docker login ${registry}\` (~/.docker/config.json)`;
}

function dockerConfigFile(env: NodeJS.ProcessEnv): string {
  return path.join(env.DOCKER_CONFIG ?? path.join(env.HOME ?? os.homedir(), '.docker'), 'config.json');
}

function fromDockerConfig(registry: string, env: NodeJS.ProcessEnv): RegistryCredential | null {
  const file = dockerConfigFile(env);
  let auths: Record<string, { auth?: string; username?: string; password?: string }>;
  try {
    auths = (JSON.parse(fs.readFileSync(file, 'utf8')) as { auths?: typeof auths }).auths ?? {};
  } catch {
    return null;
  }
  // docker writes Docker Hub as a URL and other registries as host[:port]; some tools write https://host too.
  const keys = [registry, `https://${registry}`, `http://${registry}`, ...(registry === 'docker.io' || registry === 'registry-1.docker.io' ? ['https://index.docker.io/v1/'] : [])];
  for (const key of keys) {
    const entry = auths[key];
    if (!entry) continue;
    if (entry.auth) {
      const text = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = text.indexOf(':');
      if (colon > 0) return { username: text.slice(0, colon), password: text.slice(colon + 1), source: file };
    }
    if (entry.username && entry.password) return { username: entry.username, password: entry.password, source: file };
  }
  return null;
}

/** The credential for `registry`, or null (anonymous). */
export function credentialFor(registry: string, env: NodeJS.ProcessEnv = process.env): RegistryCredential | null {
  const user = env[USERNAME_VAR];
  const pass = env[PASSWORD_VAR];
  if (user && pass) return { username: user, password: pass, source: `${USERNAME_VAR}/${PASSWORD_VAR}` };
  // GitHub Actions: GHCR takes the job's token as the password of any user name.
  if (registry === 'ghcr.io' && env.GITHUB_TOKEN) return { username: env.GITHUB_ACTOR || 'kiln', password: env.GITHUB_TOKEN, source: 'GITHUB_TOKEN' };
  return fromDockerConfig(registry, env);
}
