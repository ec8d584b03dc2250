// Every entry point that loads an artifact (loadArtifact, kiln predict, kiln serve) checks manifest.json against the
// digest its run recorded, refuses a verdict other than `passed`, refuses a folder nothing anchors unless told to trust
// its manifest, and refuses links and FIFOs inside an artifact with a diagnostic instead of crashing or hanging.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadArtifact } from '../../src/index.ts';
import { codesOf } from './support.ts';
import { openTracking } from '../../src/tracking/index.ts';
import { runCli, runMain } from '../helpers/cli.ts';
import { tempDir } from '../helpers/project.ts';
import { warmProject } from '../helpers/warm-project.ts';

let root: string;
let runId: string;
let artifact: string;
let input: string;

/** Runs `change` on the run's own artifact, then puts every byte back. */
async function withChanged(change: (dir: string) => void, check: () => Promise<void>): Promise<void> {
  const backup = path.join(tempDir('kiln-artifact-backup-'), 'a');
  fs.cpSync(artifact, backup, { recursive: true });
  try {
    change(artifact);
    await check();
  } finally {
    fs.rmSync(artifact, { recursive: true, force: true });
    fs.cpSync(backup, artifact, { recursive: true });
  }
}

/** Edits the fitted state and writes its new sha256 into manifest.json: every file matches the manifest again. */
function rehashedTamper(dir: string): void {
  const stats = path.join(dir, 'state', 'stats.json');
  const value = JSON.parse(fs.readFileSync(stats, 'utf8')) as { mean: number };
  value.mean += 100;
  fs.rmSync(stats);
  fs.writeFileSync(stats, JSON.stringify(value));
  const manifestFile = path.join(dir, 'manifest.json');
  const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as { files: Record<string, string> };
  manifest.files['state/stats.json'] = createHash('sha256').update(fs.readFileSync(stats)).digest('hex');
  fs.writeFileSync(manifestFile, JSON.stringify(manifest, null, 2) + '\n');
}

beforeAll(async () => {
  root = await warmProject('scorer');
  const r = runCli(['run'], { cwd: root, timeoutMs: 180_000 });
  expect(r.code, r.stderr).toBe(0);
  const m = /artifact scorer from run (\w+): (\S+)/.exec(r.stderr);
  expect(m, r.stderr).not.toBeNull();
  runId = m![1];
  artifact = path.resolve(root, m![2]);
  input = path.join(root, 'one.jsonl');
  fs.writeFileSync(input, '{"x": 1}\n');
}, 200_000);

describe('an artifact in its run store', () => {
  it('loads without options: its run recorded the digest and a passed parity verdict', async () => {
    const a = await loadArtifact(artifact);
    expect(a.manifest.run_id).toBe(runId);
    expect(a.warnings).toEqual([]);
  });

  it('with weights edited and their hash rewritten in the manifest is refused by loadArtifact, kiln predict and kiln serve (KILN6002)', async () => {
    await withChanged(rehashedTamper, async () => {
      const refused = await codesOf(loadArtifact(artifact));
      expect(refused).toEqual([{ code: 'KILN6002', message: expect.stringMatching(/is tampered with: manifest.json does not match the sha256 [0-9a-f]{12}… recorded when it was built or published/) }]);
      // Trusting the manifest does not override what the run recorded.
      expect((await codesOf(loadArtifact(artifact, { trust: 'manifest' })))[0].code).toBe('KILN6002');
      const predict = await runMain(['predict', artifact, '--input', input, '--trust-manifest'], { cwd: root });
      expect(predict.code).toBe(1);
      expect(predict.stderr).toMatch(/error KILN6002: artifact .* is tampered with: manifest.json/);
      const serve = await runMain(['serve', artifact, '--port', '0'], { cwd: root });
      expect(serve.code).toBe(1);
      expect(serve.stderr).toMatch(/error KILN6002: artifact .* is tampered with: manifest.json/);
    });
  });

  it('whose run does not record a passed parity check is refused (KILN6110)', async () => {
    const tracking = openTracking(path.join(root, '.kiln'));
    try {
      await tracking.runs.setTag(runId, 'parity.scorer', 'failed');
      expect(await codesOf(loadArtifact(artifact))).toEqual([{ code: 'KILN6110', message: `artifact ${artifact} did not pass its parity check: run ${runId} records parity failed` }]);
      const predict = await runMain(['predict', artifact, '--input', input], { cwd: root });
      expect(predict.code).toBe(1);
      expect(predict.stderr).toContain(`KILN6110: artifact ${artifact} did not pass its parity check`);
    } finally {
      await tracking.runs.setTag(runId, 'parity.scorer', 'passed');
      tracking.close();
    }
  });

  it('holding a link to a folder is refused by kiln predict with KILN6111, not an internal EISDIR', async () => {
    await withChanged(
      (dir) => fs.symlinkSync(path.join(dir, 'state'), path.join(dir, 'state-link'), 'dir'),
      async () => {
        const predict = await runMain(['predict', artifact, '--input', input], { cwd: root });
        expect(predict.code).toBe(1);
        expect(predict.stderr).toContain(`KILN6111: artifact ${artifact} holds state-link, which is a symbolic link, not a regular file`);
        expect(predict.stderr).not.toMatch(/internal error|EISDIR/);
        expect(await codesOf(loadArtifact(artifact))).toEqual([expect.objectContaining({ code: 'KILN6111' })]);
      },
    );
  });
});

describe('a folder no record anchors', () => {
  let bare: string;
  beforeAll(() => {
    bare = path.join(tempDir('kiln-bare-artifact-'), 'scorer');
    fs.cpSync(artifact, bare, { recursive: true });
  });

  it('is refused without trust (KILN6109) by loadArtifact, kiln predict and kiln serve', async () => {
    expect(await codesOf(loadArtifact(bare))).toEqual([{ code: 'KILN6109', message: `artifact ${bare} has no record to verify its manifest.json against: it is not in a run store (<store>/artifacts/<model>/<run-id>)` }]);
    const predict = await runMain(['predict', bare, '--input', input], { cwd: root });
    expect(predict.code).toBe(1);
    expect(predict.stderr).toContain('KILN6109');
    expect(predict.stderr).toContain('--trust-manifest');
    const serve = await runMain(['serve', bare, '--port', '0'], { cwd: root });
    expect(serve.code).toBe(1);
    expect(serve.stderr).toContain('KILN6109');
  });

  it('is loaded with trust: every file checked against its manifest, and a warning (KILN6112) that says the manifest itself is not anchored', async () => {
    const a = await loadArtifact(bare, { trust: 'manifest' });
    expect(a.warnings).toHaveLength(1);
    expect(a.warnings[0].code).toBe('KILN6112');
    expect(a.warnings[0].message).toMatch(/loaded on trust of its manifest.json: every file matches the sha256 the manifest lists, but nothing anchors the manifest itself/);
    const output = path.join(path.dirname(bare), 'out.jsonl');
    const predict = await runMain(['predict', bare, '--input', input, '--output', output, '--trust-manifest'], { cwd: root });
    expect(predict.code, predict.stderr).toBe(0);
    expect(predict.stderr).toContain('warning KILN6112');
    expect(JSON.parse(fs.readFileSync(output, 'utf8').trim())).toHaveProperty('positive');
    // With its digest from the run, the same folder is fully verified and loads without a warning.
    const tracking = openTracking(path.join(root, '.kiln'));
    const digest = (await tracking.runs.getRun(runId)).tags['digest.scorer'];
    tracking.close();
    expect((await loadArtifact(bare, { digest })).warnings).toEqual([]);
  });

  it('is refused when trusted if its files do not match its manifest, or it holds a link or a FIFO (KILN6111)', async () => {
    const copy = (name: string) => {
      const dir = path.join(path.dirname(bare), name);
      fs.cpSync(bare, dir, { recursive: true });
      return dir;
    };
    const tampered = copy('tampered');
    fs.appendFileSync(path.join(tampered, 'state', 'stats.json'), ' ');
    expect((await codesOf(loadArtifact(tampered, { trust: 'manifest' })))[0]).toEqual({ code: 'KILN6002', message: `artifact ${tampered} is tampered with: state/stats.json does not match its sha256 in manifest.json` });

    const fileLink = copy('file-link');
    fs.rmSync(path.join(fileLink, 'state', 'stats.json'));
    fs.symlinkSync(path.join(bare, 'state', 'stats.json'), path.join(fileLink, 'state', 'stats.json'));
    expect(await codesOf(loadArtifact(fileLink, { trust: 'manifest' }))).toEqual([{ code: 'KILN6111', message: `artifact ${fileLink} holds state/stats.json, which is a symbolic link, not a regular file` }]);

    const dirLink = copy('dir-link');
    fs.symlinkSync('/', path.join(dirLink, 'root'), 'dir');
    expect(await codesOf(loadArtifact(dirLink, { trust: 'manifest' }))).toEqual([{ code: 'KILN6111', message: `artifact ${dirLink} holds root, which is a symbolic link, not a regular file` }]);

    const fifo = copy('fifo');
    expect(spawnSync('mkfifo', [path.join(fifo, 'parity.jsonl.pipe')]).status).toBe(0);
    expect(await codesOf(loadArtifact(fifo, { trust: 'manifest' }))).toEqual([{ code: 'KILN6111', message: `artifact ${fifo} holds parity.jsonl.pipe, which is a FIFO, not a regular file` }]);
  });
});
