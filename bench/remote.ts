// Benchmark of kiln's OCI client against a real registry (Distribution 2.8) on loopback: push and pull of an artifact
// (default: the newest one under .kiln/artifacts; left out when there is none) and of a 100 MB blob, next to curl
// moving the same bytes in the same run (curl's upload is one monolithic PUT, its download a plain GET: the floor for
// HTTP on this machine); and a run on a second machine whose outputs are cached on the objects repository against the
// same run fully cached locally (bench/remote-cold-run.ts; --values sets the size of its data).
//
//   npx tsx bench/remote.ts [artifact-dir] [--mb 100] [--values 1000000]
//
// Prints JSON.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pullArtifact } from '../src/artifact/oci-pull.ts';
import { verifiedArtifact } from '../src/artifact/verify.ts';
import { MANIFEST_FILE } from '../src/artifact/manifest.ts';
import { OciClient } from '../src/oci/client.ts';
import { kilnOciManifest } from '../src/oci/kiln-artifact.ts';
import { startRegistry } from '../test/helpers/oci-registry.ts';
import { coldRunOnMachineB } from './remote-cold-run.ts';

const args = process.argv.slice(2);
const mbAt = args.indexOf('--mb');
const mb = mbAt >= 0 ? Number(args[mbAt + 1]) : 100;
const valuesAt = args.indexOf('--values');
const values = valuesAt >= 0 ? Number(args[valuesAt + 1]) : 1_000_000;
const positional = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--mb' && args[i - 1] !== '--values');

/** The newest built artifact, or null (the flagship never ran here): its part of the bench is then left out. */
function newestArtifact(): string | null {
  const base = path.resolve('.kiln/artifacts');
  const dirs = fs.existsSync(base) ? fs.readdirSync(base).flatMap((m) => fs.readdirSync(path.join(base, m)).map((r) => path.join(base, m, r))) : [];
  const built = dirs.filter((d) => fs.existsSync(path.join(d, MANIFEST_FILE))).sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  return built[0] ?? null;
}

async function artifactRoundTrip(artifact: string, registry: string, work: string): Promise<Record<string, unknown>> {
  const { manifest, digest } = await verifiedArtifact(artifact, { trust: 'manifest' });
  const files = Object.entries(manifest.files).map(([p, sha]) => ({ path: p, sha256: sha, size: fs.statSync(path.join(artifact, p)).size }));
  const configSize = fs.statSync(path.join(artifact, MANIFEST_FILE)).size;
  const artifactBytes = files.reduce((n, f) => n + f.size, configSize);
  const client = new OciClient({ registry, repository: 'bench/artifact' }, { push: true, credential: null });
  const push = await time(async () => {
    for (const f of files) await client.pushBlob(path.join(artifact, f.path), `sha256:${f.sha256}`, f.size);
    await client.pushBlob(path.join(artifact, MANIFEST_FILE), `sha256:${digest}`, configSize);
    await client.putManifest('v1', kilnOciManifest({ digest, size: configSize }, files, { model: manifest.model, version: 1, run: manifest.run_id, commit: 'bench', branch: 'bench', metrics: {}, overrides: [], created: new Date() }));
  });
  const pull = await time(() => pullArtifact({ registry, repository: 'bench/artifact', tag: 'v1' }, path.join(work, 'cache')));
  return { path: artifact, files: files.length + 1, bytes: artifactBytes, pushS: +push.s.toFixed(3), pushMBps: rate(artifactBytes, push.s), pullVerifiedS: +pull.s.toFixed(3), pullMBps: rate(artifactBytes, pull.s) };
}

const seconds = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;
const rate = (bytes: number, s: number) => Math.round((bytes / 1e6 / s) * 10) / 10;

async function time<T>(fn: () => Promise<T>): Promise<{ s: number; value: T }> {
  const t0 = process.hrtime.bigint();
  const value = await fn();
  return { s: seconds(t0), value };
}

function curlPush(base: string, repo: string, file: string, digest: string): number {
  const t0 = process.hrtime.bigint();
  const headers = execFileSync('curl', ['-s', '-D', '-', '-o', '/dev/null', '-X', 'POST', `${base}/v2/${repo}/blobs/uploads/`], { encoding: 'utf8' });
  const location = new URL(/^location:\s*(\S+)/im.exec(headers)![1], base);
  location.searchParams.set('digest', digest);
  const code = execFileSync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'PUT', '-H', 'content-type: application/octet-stream', '--data-binary', `@${file}`, location.toString()], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (code !== '201') throw new Error(`curl upload answered ${code}`);
  return seconds(t0);
}

function curlPull(base: string, repo: string, digest: string, out: string): number {
  const t0 = process.hrtime.bigint();
  execFileSync('curl', ['-s', '-f', '-L', '-o', out, `${base}/v2/${repo}/blobs/${digest}`]);
  return seconds(t0);
}

const reg = await startRegistry('none');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-bench-remote-'));
try {
  const base = `http://${reg.host}`;
  // The artifact, pushed as kiln publish pushes it (a blob per file, the config, the manifest) and pulled verified.
  const artifact = positional[0] ? path.resolve(positional[0]) : newestArtifact();
  const artifactResult = artifact ? await artifactRoundTrip(artifact, reg.host, work) : { skipped: 'no artifact under .kiln/artifacts: run the flagship once (npx kiln run) or pass an artifact folder' };

  // The blob: kiln (chunked PATCH, 16 MiB) and curl (one PUT) upload the same bytes to two repositories.
  const blob = path.join(work, 'blob');
  const bytes = mb * 1e6;
  const fd = fs.openSync(blob, 'w');
  for (let written = 0; written < bytes; written += 1 << 20) fs.writeSync(fd, randomBytes(Math.min(1 << 20, bytes - written)));
  fs.closeSync(fd);
  const blobDigest = `sha256:${createHash('sha256').update(fs.readFileSync(blob)).digest('hex')}`;
  const curlUp = curlPush(base, 'bench/curl', blob, blobDigest);
  const kilnUp = await time(() => new OciClient({ registry: reg.host, repository: 'bench/kiln' }, { push: true, credential: null }).pushBlob(blob, blobDigest, bytes));
  const curlDown = curlPull(base, 'bench/curl', blobDigest, path.join(work, 'curl-out'));
  const kilnDown = await time(() => new OciClient({ registry: reg.host, repository: 'bench/kiln' }, { credential: null }).pullBlob(blobDigest, bytes, path.join(work, 'kiln-out'), 'bench'));

  const cold = await coldRunOnMachineB(reg.host, values);

  console.log(
    JSON.stringify(
      {
        registry: 'docker-registry (CNCF Distribution 2.8) on loopback, filesystem storage',
        artifact: artifactResult,
        blob: {
          mb,
          kiln: { pushMBps: rate(bytes, kilnUp.s), pullVerifiedMBps: rate(bytes, kilnDown.s) },
          curl: { pushMBps: rate(bytes, curlUp), pullMBps: rate(bytes, curlDown) },
          ratioKilnToCurl: { push: +(curlUp / kilnUp.s).toFixed(2), pull: +(curlDown / kilnDown.s).toFixed(2) },
        },
        coldRunOnMachineB: cold,
      },
      null,
      2,
    ),
  );
} finally {
  await reg.stop();
  fs.rmSync(work, { recursive: true, force: true });
}
