// `kiln publish` and `kiln registry` on the scorer fixture in a real repository: every refusal names its condition,
// a publish is a verified copy at <target>/<model>/v<N>/ with the alias moved, and the registry commands read and
// move aliases.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import git from 'isomorphic-git';
import { beforeAll, describe, expect, it } from 'vitest';
import { publishModel } from '../../src/gitops/publish.ts';
import { openTracking } from '../../src/tracking/index.ts';
import { checkout, codesOf, commitAll, gitInit, kiln, kilnHere, repoRoot, tempDir } from './support.ts';

let root: string;
let head: string;
const tracking = () => openTracking(path.join(root, '.kiln'));
/** Edits the fitted state of the artifact in `dir` and rewrites its sha256 in manifest.json; returns the undo. */
function rehashedTamper(dir: string): () => void {
  const stats = path.join(dir, 'state', 'stats.json');
  const manifestFile = path.join(dir, 'manifest.json');
  const [statsText, manifestText] = [fs.readFileSync(stats), fs.readFileSync(manifestFile)];
  const value = JSON.parse(statsText.toString()) as { mean: number };
  value.mean += 100;
  fs.rmSync(stats);
  fs.writeFileSync(stats, JSON.stringify(value));
  const manifest = JSON.parse(manifestText.toString()) as { files: Record<string, string> };
  manifest.files['state/stats.json'] = createHash('sha256').update(fs.readFileSync(stats)).digest('hex');
  fs.writeFileSync(manifestFile, JSON.stringify(manifest, null, 2) + '\n');
  return () => {
    fs.rmSync(stats);
    fs.writeFileSync(stats, statsText);
    fs.writeFileSync(manifestFile, manifestText);
  };
}

const latestRun = async () => {
  const t = tracking();
  try {
    return (await t.runs.latestFinishedRun('score', head))!.id;
  } finally {
    t.close();
  }
};

beforeAll(async () => {
  root = tempDir('kiln-publish-');
  fs.cpSync(path.join(repoRoot, 'test/fixtures/projects/scorer'), root, { recursive: true });
  fs.writeFileSync(path.join(root, 'package.json'), '{ "type": "module" }\n');
  fs.writeFileSync(path.join(root, '.gitignore'), '.kiln/\ndata/\ndist/\n');
  const pipeline = path.join(root, 'pipelines/score/pipeline.yaml');
  fs.writeFileSync(pipeline, `${fs.readFileSync(pipeline, 'utf8')}    better_than: production\n`);
  expect((await kilnHere(['compile', '--no-typecheck'], root)).code).toBe(0);
  await gitInit(root);
  head = await commitAll(root, 'scorer');
});

describe('kiln publish refuses', () => {
  it('without publish.target and without a run at HEAD (both said at once)', async () => {
    expect((await codesOf(() => publishModel({ root }))).sort()).toEqual(['KILN7007', 'KILN7011']);
    fs.appendFileSync(path.join(root, 'kiln.yaml'), 'publish:\n  target: dist/models\n');
    head = await commitAll(root, 'publish target');
    const run = kiln(['run'], root);
    expect(run.code, run.stderr).toBe(0);
  });

  it('an unknown model, with a suggestion', async () => {
    const r = await kilnHere(['publish', 'scorr'], root);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("KILN7012: no model 'scorr' in this project. Did you mean 'scorer'?");
  });

  it('a run whose artifact failed parity or is gone', async () => {
    const run = await latestRun();
    const t = tracking();
    try {
      await t.runs.setTag(run, 'parity.scorer', 'failed');
      const r = await kilnHere(['publish'], root);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`KILN7008: cannot publish 'scorer': the artifact of run ${run} failed its parity check`);
      await t.runs.setTag(run, 'parity.scorer', 'passed');
    } finally {
      t.close();
    }
    const dir = path.join(root, '.kiln/artifacts/scorer', run);
    fs.renameSync(dir, `${dir}.moved`);
    try {
      const r = await kilnHere(['publish', '--json'], root);
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout)).toEqual([expect.objectContaining({ code: 'KILN7008', message: `cannot publish 'scorer': the artifact of run ${run} is not at .kiln/artifacts/scorer/${run} any more` })]);
    } finally {
      fs.renameSync(`${dir}.moved`, dir);
    }
  });

  it('an artifact whose weights were edited and re-hashed in its manifest (KILN6002 against the digest the run recorded)', async () => {
    const run = await latestRun();
    const undo = rehashedTamper(path.join(root, '.kiln/artifacts/scorer', run));
    try {
      const r = await kilnHere(['publish', '--json'], root);
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout)).toEqual([expect.objectContaining({ code: 'KILN6002', message: expect.stringMatching(/is tampered with: manifest.json does not match the sha256 [0-9a-f]{12}… recorded when it was built or published/) })]);
      expect(fs.existsSync(path.join(root, 'dist'))).toBe(false);
    } finally {
      undo();
    }
  });

  it('to overwrite a published folder', async () => {
    fs.mkdirSync(path.join(root, 'dist/models/scorer/v1'), { recursive: true });
    try {
      expect(await codesOf(() => publishModel({ root }))).toEqual(['KILN7013']);
    } finally {
      fs.rmSync(path.join(root, 'dist'), { recursive: true });
    }
  });
});

describe('kiln publish', () => {
  it('--dry-run checks everything and changes nothing; a detached HEAD at the tip of main counts as main', async () => {
    await git.checkout({ fs, dir: root, ref: head });
    try {
      expect(await git.currentBranch({ fs, dir: root })).toBeUndefined();
      const r = await kilnHere(['publish', '--dry-run'], root);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('would publish scorer v1');
      expect(r.stdout).toContain('scorer@production: (unset) → v1 (not moved: --dry-run)');
    } finally {
      await checkout(root, 'main');
    }
    expect(fs.existsSync(path.join(root, 'dist'))).toBe(false);
  });

  it('publishes v1 (a verified copy, registered, alias moved), and publishing the same run again does nothing', async () => {
    const run = await latestRun();
    const r = await kilnHere(['publish', '--json'], root);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ model: 'scorer', version: 1, alias: 'production', previous: null, run, commit: head, branch: 'main', artifact: 'dist/models/scorer/v1', gate: ['accuracy 0.9 >= 0.5'], dryRun: false, alreadyPublished: false });
    const published = path.join(root, 'dist/models/scorer/v1');
    expect(fs.readdirSync(published).sort()).toEqual(fs.readdirSync(path.join(root, '.kiln/artifacts/scorer', run)).sort());
    expect(fs.readdirSync(path.join(root, 'dist/models/scorer'))).toEqual(['v1']);
    const t = tracking();
    try {
      expect((await t.runs.getRun(run)).tags['published.scorer']).toBe('v1');
    } finally {
      t.close();
    }
    const again = await kilnHere(['publish'], root);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`run ${run} (commit ${head.slice(0, 7)}) is already published as scorer v1 (dist/models/scorer/v1); nothing to do`);
  });

  it('an alias is not moved to a published version re-hashed since (checked against the registry digest)', async () => {
    const undo = rehashedTamper(path.join(root, 'dist/models/scorer/v1'));
    try {
      const r = await kilnHere(['registry', 'alias', 'scorer', 'staging', 'v1'], root);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/KILN6002: artifact .*dist\/models\/scorer\/v1 is tampered with: manifest.json/);
      const predict = kiln(['predict', 'scorer@production', '--input', path.join(root, 'inputs', 'measurements.jsonl')], root);
      expect(predict.code).toBe(1);
      expect(predict.stderr).toMatch(/KILN6002: artifact .*dist\/models\/scorer\/v1 is tampered with: manifest.json/);
    } finally {
      undo();
    }
  });

  it('publishes v2 from a new run when it is at least as good as production; the registry lists, shows, aliases and rolls back', async () => {
    expect(kiln(['run', '--no-cache'], root).code).toBe(0);
    const r = await kilnHere(['publish'], root);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('gate: accuracy 0.9 >= 0.5; accuracy 0.9 >= 0.9 of production (v1)');
    expect(r.stdout).toContain('scorer@production: v1 → v2');

    const list = await kilnHere(['registry', 'list'], root);
    expect(list.stdout).toBe('MODEL   LATEST  VERSIONS  ALIASES\nscorer  v2      2         production→v2\n');
    const show = await kilnHere(['registry', 'show', 'scorer'], root);
    expect(show.stdout).toMatch(/^scorer: 2 version\(s\); aliases: production→v2\n\nVERSION +ALIASES +CREATED +COMMIT +RUN +ARTIFACT\nv2 +production +\S+ \S+ +[0-9a-f]{7} +\w+ +dist\/models\/scorer\/v2\nv1 +- /);

    expect((await kilnHere(['registry', 'alias', 'scorer', 'staging', 'v2'], root)).stdout).toBe('moved scorer@staging: (unset) → v2 (dist/models/scorer/v2)\n');
    const back = await kilnHere(['registry', 'rollback', 'scorer', '--json'], root);
    expect(JSON.parse(back.stdout)).toEqual({ model: 'scorer', alias: 'production', previous: 2, version: 1, artifact: 'dist/models/scorer/v1' });
    const again = await kilnHere(['registry', 'rollback', 'scorer'], root);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('KILN7014: cannot roll back scorer@production: v1 is the first version it pointed at; there is nothing earlier to go back to');
    expect((await kilnHere(['registry', 'rollback', 'scorer', '--to', '2'], root)).stdout).toBe('rolled back scorer@production: v1 → v2 (dist/models/scorer/v2)\n');
    const json = JSON.parse((await kilnHere(['registry', 'list', '--json'], root)).stdout) as Array<{ name: string; aliases: Record<string, number> }>;
    expect(json).toMatchObject([{ name: 'scorer', aliases: { production: 2, staging: 2 } }]);
  });

  it('refuses when production cannot be read to compare with (KILN7021)', async () => {
    const t = tracking();
    try {
      const bogus = await t.registry.registerVersion({ model: 'scorer', artifactPath: 'nowhere', artifactSha256: 'a'.repeat(64), runId: null, commit: null });
      await t.registry.setAlias('scorer', 'production', bogus.version);
      expect(kiln(['run', '--no-cache'], root).code).toBe(0);
      const r = await kilnHere(['publish'], root);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`KILN7021: cannot publish 'scorer': cannot compare with production (v${bogus.version}): neither its artifact (nowhere) nor its run is there any more`);
    } finally {
      t.close();
    }
  });
});
