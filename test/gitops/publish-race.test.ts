// Two `kiln publish` processes started together, several times: publishing one artifact gives one version (the other
// says it is already published); two projects publishing to one shared target give one version and one clear refusal
// (KILN7013). Never a registered version whose folder is missing or holds another artifact, never a leftover folder.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openTracking } from '../../src/tracking/index.ts';
import { commitAll, gitInit, kiln, kilnHere, repoRoot, tempDir, type CliResult } from './support.ts';

// Each trial costs two process starts; against the code before the fix, three were enough for the race to show.
const TRIALS = 3;
let base: string;

/** `kiln <args>` as a child process that runs alongside others. */
function kilnAlongside(args: string[], cwd: string): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const k of ['FORCE_COLOR', 'VITEST', 'VITEST_WORKER_ID', 'VITEST_POOL_ID']) delete env[k];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'kiln.js'), ...args], { cwd, env, timeout: 60_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** The registered versions of `scorer` in the project's store, each with the sha256 of the manifest found at its path. */
async function versionsOf(project: string) {
  const t = openTracking(path.join(project, '.kiln'));
  try {
    const models = await t.registry.listModels();
    if (!models.length) return [];
    return (await t.registry.showModel('scorer')).versions.map((v) => {
      const manifest = path.join(path.resolve(project, v.artifactPath), 'manifest.json');
      const found = fs.existsSync(manifest) ? createHash('sha256').update(fs.readFileSync(manifest)).digest('hex') : null;
      return { version: v.version, registered: v.artifactSha256, found };
    });
  } finally {
    t.close();
  }
}

let sharedRoot: string;

/** A copy of the project with its repository, its run and its store. */
function copyOfBase(name: string): string {
  const dir = path.join(tempDir('kiln-publish-race-'), name);
  fs.cpSync(base, dir, { recursive: true });
  return dir;
}

beforeAll(async () => {
  base = tempDir('kiln-publish-race-base-');
  fs.cpSync(path.join(repoRoot, 'test/fixtures/projects/scorer'), base, { recursive: true });
  fs.writeFileSync(path.join(base, 'package.json'), '{ "type": "module" }\n');
  // `dist`, not `dist/`: git ignores a symbolic link to a folder (the shared target below) only by a pattern without the slash.
  fs.writeFileSync(path.join(base, '.gitignore'), '.kiln/\ndata/\ndist\n');
  // A folder outside both projects that each may publish into (paths.allow), as a team share would be.
  sharedRoot = tempDir('kiln-publish-race-shared-');
  fs.appendFileSync(path.join(base, 'kiln.yaml'), `publish:\n  target: dist/models\npaths:\n  allow: [${JSON.stringify(sharedRoot)}]\n`);
  expect((await kilnHere(['compile', '--no-typecheck'], base)).code).toBe(0);
  await gitInit(base);
  await commitAll(base, 'scorer');
  const run = kiln(['run'], base);
  expect(run.code, run.stderr).toBe(0);
});

describe('concurrent kiln publish', () => {
  it('of the same artifact in one project: one version, the other process says it is already published', async () => {
    for (let trial = 0; trial < TRIALS; trial++) {
      const project = copyOfBase(`same-${trial}`);
      const results = await Promise.all([kilnAlongside(['publish', '--json'], project), kilnAlongside(['publish', '--json'], project)]);
      for (const r of results) expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
      const outcomes = results.map((r) => JSON.parse(r.stdout) as { version: number; alreadyPublished: boolean });
      expect(outcomes.map((o) => o.version)).toEqual([1, 1]);
      expect(outcomes.map((o) => o.alreadyPublished).sort()).toEqual([false, true]);
      const versions = await versionsOf(project);
      expect(versions).toHaveLength(1);
      expect(versions[0].found).toBe(versions[0].registered);
      expect(fs.readdirSync(path.join(project, 'dist/models/scorer'))).toEqual(['v1']);
    }
  }, 300_000);

  it('of two projects to one shared target: one publishes v1, the other refuses (KILN7013) and registers nothing', async () => {
    for (let trial = 0; trial < TRIALS; trial++) {
      const shared = path.join(sharedRoot, `trial-${trial}`);
      fs.mkdirSync(shared);
      const projects = ['a', 'b'].map((n) => {
        const p = copyOfBase(`${n}-${trial}`);
        // dist/ is ignored by git: the tree stays clean while both publish.targets lead to one folder.
        fs.symlinkSync(shared, path.join(p, 'dist'), 'dir');
        return p;
      });
      const results = await Promise.all(projects.map((p) => kilnAlongside(['publish', '--json'], p)));
      expect(results.map((r) => r.code).sort(), results.map((r) => r.stderr).join('\n')).toEqual([0, 1]);
      const loser = results.findIndex((r) => r.code === 1);
      expect((JSON.parse(results[loser].stdout) as Array<{ code: string }>).map((d) => d.code)).toEqual(['KILN7013']);
      expect(await versionsOf(projects[loser])).toEqual([]);
      const won = await versionsOf(projects[1 - loser]);
      expect(won).toHaveLength(1);
      expect(won[0].found).toBe(won[0].registered);
      expect(fs.readdirSync(path.join(shared, 'models/scorer'))).toEqual(['v1']);
    }
  }, 300_000);
});
