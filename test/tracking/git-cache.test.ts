// The git stamp's cache: reused while the working tree, HEAD and the index are unchanged; any edit is seen.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import git from 'isomorphic-git';
import { afterEach, expect, it } from 'vitest';
import { gitStamp } from '../../src/tracking/git.ts';

let dir: string;
afterEach(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

it('reuses the stamp while nothing changes and sees every change', async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-gitcache-'));
  await git.init({ fs, dir, defaultBranch: 'main' });
  fs.writeFileSync(path.join(dir, 'a.txt'), 'one\n');
  await git.add({ fs, dir, filepath: 'a.txt' });
  await git.commit({ fs, dir, message: 'first', author: { name: 't', email: 't@example.com' } });
  const cacheFile = path.join(dir, '.kiln', 'cache', 'git-stamp.json');
  const opts = { exclude: ['.kiln'], cacheFile };

  const clean = (await gitStamp(dir, opts)).stamp;
  expect(clean.dirty).toBe(false);
  expect(fs.existsSync(cacheFile)).toBe(true);
  // A forged cache entry with the current signature is what a second call returns: proof it is reused.
  const saved = JSON.parse(fs.readFileSync(cacheFile, 'utf8'));
  fs.writeFileSync(cacheFile, JSON.stringify({ ...saved, stamp: { ...saved.stamp, diffHash: 'from-cache' } }));
  expect((await gitStamp(dir, opts)).stamp.diffHash).toBe('from-cache');

  // An edit changes the signature: a real stamp, dirty, with the file listed.
  fs.writeFileSync(path.join(dir, 'a.txt'), 'two!\n');
  const edited = (await gitStamp(dir, opts)).stamp;
  expect(edited.dirty).toBe(true);
  expect(edited.uncommitted).toEqual([{ path: 'a.txt', status: 'modified', blob: expect.stringMatching(/^[0-9a-f]{40}$/) }]);
  expect(edited.diffHash).toMatch(/^[0-9a-f]{64}$/);

  // A new untracked file, then a commit: each seen.
  fs.writeFileSync(path.join(dir, 'b.txt'), 'new\n');
  expect((await gitStamp(dir, opts)).stamp.uncommitted.map((f) => f.path)).toEqual(['a.txt', 'b.txt']);
  await git.add({ fs, dir, filepath: 'a.txt' });
  await git.add({ fs, dir, filepath: 'b.txt' });
  const commit = await git.commit({ fs, dir, message: 'second', author: { name: 't', email: 't@example.com' } });
  const after = (await gitStamp(dir, opts)).stamp;
  expect(after.commit).toBe(commit);
  expect(after.dirty).toBe(false);
});
