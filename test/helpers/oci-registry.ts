// A real OCI registry for tests: Debian's docker-registry (CNCF Distribution 2.8) on a loopback port with a temporary
// storage folder, anonymous, behind htpasswd basic auth, or behind the bearer-token flow with a token service run
// here (RS256 tokens signed by a self-signed certificate the registry trusts). CI installs it (.ci/run).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSign, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import bcrypt from 'bcryptjs';

export const REGISTRY_BIN = '/usr/bin/docker-registry';

export interface TestRegistry {
  /** host:port, as an oci:// reference names it. */
  host: string;
  /** Where blobs live: <storage>/docker/registry/v2/blobs/sha256/<xx>/<hex>/data. */
  storage: string;
  user: string;
  password: string;
  blobFile(digest: string): string;
  /** Stops the registry; its storage folder is removed unless `keepStorage` (for a restart). */
  stop(opts?: { keepStorage?: boolean }): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** A token service as Distribution's token auth expects: Basic credentials in, a JWT for the asked scope out. */
async function tokenService(dir: string, user: string, password: string, service: string): Promise<{ realm: string; cert: string; close: () => Promise<void> }> {
  const key = path.join(dir, 'token.key');
  const cert = path.join(dir, 'token.crt');
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=kiln-test-token'], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`openssl could not make the token certificate: ${made.stderr}`);
  const pem = fs.readFileSync(key, 'utf8');
  const der = fs.readFileSync(cert, 'utf8').replace(/-----[^-]+-----|\s/g, '');
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const given = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString();
    if (given !== `${user}:${password}`) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"wrong credentials"}');
      return;
    }
    const access = url.searchParams.getAll('scope').map((s) => {
      const [type, name, actions] = s.split(':');
      return { type, name, actions: actions.split(',') };
    });
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', x5c: [der] }));
    const claims = b64url(JSON.stringify({ iss: 'kiln-test-issuer', sub: user, aud: service, exp: now + 600, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access }));
    const signature = createSign('RSA-SHA256').update(`${header}.${claims}`).sign(pem);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: `${header}.${claims}.${b64url(signature)}` }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const realm = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/token`;
  return { realm, cert, close: () => new Promise((r) => server.close(() => r())) };
}

/**
 * Starts a registry; `auth` none (anonymous), basic (htpasswd) or token (bearer challenge). `restart` starts it again
 * on the storage and credentials of one stopped with `stop({ keepStorage: true })`, as a registry restarted after an outage.
 */
export async function startRegistry(auth: 'none' | 'basic' | 'token' = 'none', restart?: TestRegistry): Promise<TestRegistry> {
  if (!fs.existsSync(REGISTRY_BIN)) throw new Error(`${REGISTRY_BIN} is missing: the OCI tests need the real registry; install it with apt-get install -y docker-registry (.ci/run does)`);
  const dir = restart ? path.dirname(restart.storage) : fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-registry-')));
  const storage = path.join(dir, 'data');
  const user = 'kiln-ci';
  const password = restart?.password ?? randomBytes(12).toString('hex');
  const port = await freePort();
  let authYaml = '';
  let token: Awaited<ReturnType<typeof tokenService>> | null = null;
  if (auth === 'basic') {
    fs.writeFileSync(path.join(dir, 'htpasswd'), `${user}:${bcrypt.hashSync(password, 5)}\n`);
    authYaml = `auth:\n  htpasswd:\n    realm: kiln-test\n    path: ${path.join(dir, 'htpasswd')}\n`;
  } else if (auth === 'token') {
    token = await tokenService(dir, user, password, 'kiln-test-registry');
    authYaml = `auth:\n  token:\n    realm: ${token.realm}\n    service: kiln-test-registry\n    issuer: kiln-test-issuer\n    rootcertbundle: ${token.cert}\n`;
  }
  fs.writeFileSync(
    path.join(dir, 'config.yml'),
    `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${storage}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n${authYaml}`,
  );
  const proc: ChildProcess = spawn(REGISTRY_BIN, ['serve', path.join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`docker-registry exited (${proc.exitCode}): ${stderr}`);
    const up = await fetch(`http://127.0.0.1:${port}/v2/`).then(
      () => true,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) throw new Error(`docker-registry did not answer on port ${port}: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    host: `127.0.0.1:${port}`,
    storage,
    user,
    password,
    blobFile: (digest) => path.join(storage, 'docker/registry/v2/blobs/sha256', digest.slice(7, 9), digest.slice(7), 'data'),
    async stop(opts = {}) {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      await exited;
      await token?.close();
      if (!opts.keepStorage) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
