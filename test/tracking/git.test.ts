import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import git from 'isomorphic-git';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { gitStamp, type GitStamp } from '../../src/tracking/git.ts';
import { tempDir } from './helpers.ts';

const author = { name: 'Test', email: 'test@example.com', timestamp: 1_700_000_000, timezoneOffset: 0 };

/** A repository with one commit: src/nodes.ts, pipelines/p.yaml, a .gitignore for node_modules/ and .kiln/. */
async function repo(): Promise<{ dir: string; commit: string }> {
  const dir = tempDir('kiln-git-');
  await git.init({ fs, dir, defaultBranch: 'main' });
  fs.mkdirSync(path.join(dir, 'src'));
  fs.mkdirSync(path.join(dir, 'pipelines'));
  fs.writeFileSync(path.join(dir, 'src', 'nodes.ts'), 'export const a = 1;\n');
  fs.writeFileSync(path.join(dir, 'pipelines', 'p.yaml'), 'pipeline: p\n');
  fs.writeFileSync(path.join(dir, '.gitignore'), 'node_modules/\n.kiln/\n*.log\n');
  for (const f of ['src/nodes.ts', 'pipelines/p.yaml', '.gitignore']) await git.add({ fs, dir, filepath: f });
  const commit = await git.commit({ fs, dir, message: 'initial', author });
  return { dir, commit };
}

describe('git stamp', () => {
  it('stamps a clean working tree with commit and branch', async () => {
    const { dir, commit } = await repo();
    // Ignored content must neither show up nor be walked into.
    fs.mkdirSync(path.join(dir, 'node_modules', 'pkg'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'node_modules', 'pkg', 'index.js'), 'x');
    fs.writeFileSync(path.join(dir, 'debug.log'), 'x');
    const { stamp, diagnostics } = await gitStamp(path.join(dir, 'pipelines'));
    expect(diagnostics).toEqual([]);
    expect(stamp).toEqual({ root: dir, commit, branch: 'main', dirty: false, uncommitted: [], diffHash: null });
  });

  it('lists modified, untracked, deleted and added files and hashes their content', async () => {
    const { dir } = await repo();
    fs.writeFileSync(path.join(dir, 'src', 'nodes.ts'), 'export const a = 2;\n');
    const first = (await gitStamp(dir)).stamp;
    expect(first.dirty).toBe(true);
    expect(first.uncommitted).toEqual([{ path: 'src/nodes.ts', status: 'modified', blob: expect.stringMatching(/^[0-9a-f]{40}$/) }]);
    expect(first.diffHash).toMatch(/^[0-9a-f]{64}$/);

    // Same set of files, different content: a different hash.
    fs.writeFileSync(path.join(dir, 'src', 'nodes.ts'), 'export const a = 3;\n');
    const second = (await gitStamp(dir)).stamp;
    expect(second.uncommitted.map((f) => f.path)).toEqual(first.uncommitted.map((f) => f.path));
    expect(second.uncommitted[0].blob).not.toBe(first.uncommitted[0].blob);
    expect(second.diffHash).not.toBe(first.diffHash);
    // Back to the first content: the first hash again.
    fs.writeFileSync(path.join(dir, 'src', 'nodes.ts'), 'export const a = 2;\n');
    expect((await gitStamp(dir)).stamp.diffHash).toBe(first.diffHash);

    fs.writeFileSync(path.join(dir, 'src', 'new.ts'), 'export {};\n');
    fs.writeFileSync(path.join(dir, 'src', 'staged.ts'), 'export {};\n');
    await git.add({ fs, dir, filepath: 'src/staged.ts' });
    fs.rmSync(path.join(dir, 'pipelines', 'p.yaml'));
    const { stamp } = await gitStamp(dir);
    const blob = expect.stringMatching(/^[0-9a-f]{40}$/);
    expect(stamp.uncommitted).toEqual([
      { path: 'pipelines/p.yaml', status: 'deleted', blob: null },
      { path: 'src/new.ts', status: 'untracked', blob },
      { path: 'src/nodes.ts', status: 'modified', blob },
      { path: 'src/staged.ts', status: 'added', blob },
    ]);
    expect(stamp.diffHash).not.toBe(first.diffHash);
  });

  it('leaves out the run store even when it is not ignored', async () => {
    const { dir } = await repo();
    fs.writeFileSync(path.join(dir, '.gitignore'), 'node_modules/\n');
    await git.add({ fs, dir, filepath: '.gitignore' });
    await git.commit({ fs, dir, message: 'store not ignored', author });
    fs.mkdirSync(path.join(dir, 'store', 'objects'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'store', 'kiln.db'), 'db');
    expect((await gitStamp(dir)).stamp.uncommitted.map((f) => f.path)).toEqual(['store/kiln.db']);
    const { stamp } = await gitStamp(dir, { exclude: ['store'] });
    expect(stamp.dirty).toBe(false);
  });

  it('has no branch on a detached HEAD', async () => {
    const { dir, commit } = await repo();
    fs.writeFileSync(path.join(dir, 'README.md'), 'more\n');
    await git.add({ fs, dir, filepath: 'README.md' });
    await git.commit({ fs, dir, message: 'second', author });
    await git.checkout({ fs, dir, ref: commit });
    const { stamp } = await gitStamp(dir);
    expect(stamp.commit).toBe(commit);
    expect(stamp.branch).toBeNull();
    expect(stamp.dirty).toBe(false);
  });

  it('outside a repository: no commit and a KILN4001 warning', async () => {
    const dir = tempDir('kiln-nogit-');
    const { stamp, diagnostics } = await gitStamp(dir);
    expect(stamp).toEqual({ root: null, commit: null, branch: null, dirty: null, uncommitted: [], diffHash: null });
    expect(diagnostics.map((d) => [d.code, d.severity])).toEqual([['KILN4001', 'warning']]);
    expect(diagnostics[0].message).toContain('no git repository');
  });

  it('a .git file that names no git directory: no commit and a KILN4001 warning, not a crash', async () => {
    const dir = tempDir('kiln-git-bad-');
    fs.writeFileSync(path.join(dir, '.git'), 'not a gitdir line\n');
    const { stamp, diagnostics } = await gitStamp(dir);
    expect(stamp.commit).toBeNull();
    expect(diagnostics.map((d) => d.code)).toEqual(['KILN4001']);
  });

  it('before the first commit: no commit and a KILN4001 warning', async () => {
    const dir = tempDir('kiln-git-empty-');
    await git.init({ fs, dir, defaultBranch: 'main' });
    const { stamp, diagnostics } = await gitStamp(dir);
    expect(stamp.commit).toBeNull();
    expect(stamp.branch).toBe('main');
    expect(diagnostics.map((d) => d.code)).toEqual(['KILN4001']);
    expect(diagnostics[0].message).toContain('no commits yet');
  });

  describe('what git would store, file by file', () => {
    it('hashes symbolic links as their text (to a folder, to a file, broken, tracked), skips fifos, and gives git blob ids', async () => {
      const { dir } = await repo();
      // A data folder on a bigger disk, linked into the tree: the set-up that crashed every run with EISDIR.
      const elsewhere = tempDir('kiln-data-');
      fs.writeFileSync(path.join(elsewhere, 'big.bin'), 'x'.repeat(1000));
      fs.symlinkSync(elsewhere, path.join(dir, 'data'));
      fs.symlinkSync('nodes.ts', path.join(dir, 'src', 'alias.ts'));
      fs.symlinkSync(path.join(dir, 'nowhere'), path.join(dir, 'broken'));
      execFileSync('mkfifo', [path.join(dir, 'pipe')]);
      fs.writeFileSync(path.join(dir, 'src', 'nodes.ts'), 'export const a = 5;\n');
      const { stamp } = await gitStamp(dir);
      expect(stamp.uncommitted.map((f) => [f.path, f.status])).toEqual([
        ['broken', 'untracked'],
        ['data', 'untracked'],
        ['src/alias.ts', 'untracked'],
        ['src/nodes.ts', 'modified'],
      ]);
      // The same ids git gives once the files are staged: links as their text, files as their bytes.
      sh(dir, 'git', 'add', '--', 'broken', 'data', 'src/alias.ts', 'src/nodes.ts');
      for (const f of stamp.uncommitted) expect(f.blob).toBe(sh(dir, 'git', 'rev-parse', `:${f.path}`));

      // A tracked link pointed elsewhere is modified, hashed as its new text; the data folder's content never counts.
      sh(dir, 'git', 'commit', '-qm', 'links');
      fs.writeFileSync(path.join(elsewhere, 'big.bin'), 'y');
      expect((await gitStamp(dir)).stamp.dirty).toBe(false);
      fs.rmSync(path.join(dir, 'src', 'alias.ts'));
      fs.symlinkSync('../pipelines/p.yaml', path.join(dir, 'src', 'alias.ts'));
      const moved = (await gitStamp(dir)).stamp;
      expect(moved.uncommitted).toEqual([{ path: 'src/alias.ts', status: 'modified', blob: sh(dir, 'git', 'hash-object', '--stdin', { input: '../pipelines/p.yaml' }) }]);
    });

    it.skipIf(!canDropRoot)('a file it cannot read is a KILN4032 warning, never a failed run', async () => {
      const { dir, commit } = await repo();
      fs.writeFileSync(path.join(dir, 'secret.txt'), 'x');
      const untracked = stampAsUser(dir, 'secret.txt');
      expect(untracked.stamp).toMatchObject({ commit, dirty: true, uncommitted: [{ path: 'secret.txt', status: 'untracked', blob: null }] });
      expect(untracked.diagnostics.map((d) => [d.code, d.severity])).toEqual([['KILN4032', 'warning']]);
      expect(untracked.diagnostics[0].message).toContain('secret.txt');
      fs.rmSync(path.join(dir, 'secret.txt'));
      // A tracked file changed and made unreadable: never taken for clean, the commit still known. (Whether git's
      // status sees it as modified or cannot read the tree at all depends on the index; either is a warning.)
      fs.writeFileSync(path.join(dir, 'src', 'nodes.ts'), 'export const a = 9;\n');
      const tracked = stampAsUser(dir, 'src/nodes.ts');
      expect(tracked.stamp).toMatchObject({ commit, branch: 'main' });
      expect(tracked.stamp.dirty).not.toBe(false);
      expect(tracked.diagnostics.map((d) => d.code)).toEqual(['KILN4032']);
      expect(tracked.diagnostics[0].message).toContain('src/nodes.ts');
    });

    it('sees repositories inside the tree as git does: a submodule by its commit and its own changes, a clone as one entry', async () => {
      const lib = tempDir('kiln-lib-');
      sh(lib, 'git', 'init', '-q', '-b', 'main');
      fs.writeFileSync(path.join(lib, 'lib.ts'), 'export const v = 1;\n');
      sh(lib, 'git', 'add', '-A');
      sh(lib, 'git', 'commit', '-qm', 'lib');
      const { dir } = await repo();
      sh(dir, 'git', '-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', `file://${lib}`, 'vendor/lib');
      sh(dir, 'git', 'commit', '-qm', 'submodule');
      const cacheFile = path.join(dir, '.kiln', 'cache', 'git-stamp.json');
      const opts = { exclude: ['.kiln'], cacheFile };
      expect((await gitStamp(dir, opts)).stamp.dirty).toBe(false);

      // A commit inside the submodule moves what it has checked out: dirty, even through the stamp's cache.
      const sub = path.join(dir, 'vendor', 'lib');
      fs.writeFileSync(path.join(sub, 'lib.ts'), 'export const v = 2;\n');
      sh(sub, 'git', 'commit', '-qam', 'v2');
      const moved = (await gitStamp(dir, opts)).stamp;
      expect(moved.uncommitted).toEqual([{ path: 'vendor/lib', status: 'modified', blob: sh(sub, 'git', 'rev-parse', 'HEAD') }]);
      // Its working tree's changes are listed under its folder.
      fs.writeFileSync(path.join(sub, 'lib.ts'), 'export const v = 3;\n');
      expect((await gitStamp(dir, opts)).stamp.uncommitted.map((f) => [f.path, f.status])).toEqual([
        ['vendor/lib', 'modified'],
        ['vendor/lib/lib.ts', 'modified'],
      ]);

      // A repository cloned into the tree: one untracked entry (its commit), its files not walked.
      const clone = path.join(dir, 'scratch');
      sh(dir, 'git', 'clone', '-q', `file://${lib}`, 'scratch');
      const { stamp } = await gitStamp(dir);
      expect(stamp.uncommitted.filter((f) => f.path.startsWith('scratch'))).toEqual([{ path: 'scratch', status: 'untracked', blob: sh(clone, 'git', 'rev-parse', 'HEAD') }]);
    });

    it('tells two dirty runs apart file by file; ignored files (a big log) are left out', async () => {
      const { dir } = await repo();
      fs.writeFileSync(path.join(dir, 'big.log'), Buffer.alloc(4 * 1024 * 1024));
      fs.writeFileSync(path.join(dir, 'src', 'nodes.ts'), 'export const a = 2;\n');
      fs.writeFileSync(path.join(dir, 'notes.md'), 'draft\n');
      const a = (await gitStamp(dir)).stamp;
      fs.writeFileSync(path.join(dir, 'notes.md'), 'draft 2\n');
      const b = (await gitStamp(dir)).stamp;
      expect(a.uncommitted.map((f) => f.path)).toEqual(['notes.md', 'src/nodes.ts']);
      const changed = b.uncommitted.filter((f, i) => f.blob !== a.uncommitted[i].blob).map((f) => f.path);
      expect(changed).toEqual(['notes.md']);
      expect(b.uncommitted[0].blob).toBe(sh(dir, 'git', 'hash-object', 'notes.md'));
    });
  });
});

function sh(cwd: string, cmd: string, ...args: Array<string | { input: string }>): string {
  const input = args.find((a): a is { input: string } => typeof a !== 'string');
  const env = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com', HOME: os.tmpdir() };
  return execFileSync(cmd, args.filter((a): a is string => typeof a === 'string'), { cwd, env, input: input?.input, encoding: 'utf8' }).trim();
}

// Root reads every file whatever its mode: as root, the unreadable-file test stamps as `nobody` (runuser).
const isRoot = process.getuid?.() === 0;
const canDropRoot = !isRoot || (process.platform === 'linux' && fs.existsSync('/usr/sbin/runuser'));

/** Stamps `dir` with `unreadable` (repository-relative) made unreadable to the stamping user. */
function stampAsUser(dir: string, unreadable: string): { stamp: GitStamp; diagnostics: Array<{ code: string; severity: string; message: string }> } {
  const child = fileURLToPath(new URL('./child-stamp.ts', import.meta.url));
  const node = [process.execPath, '--import', 'tsx', child, dir];
  if (isRoot) {
    // The unprivileged user must be able to walk into the temporary repository (mkdtemp makes it private).
    for (let d = path.dirname(dir); d !== path.dirname(d) && d.startsWith(os.tmpdir() + path.sep); d = path.dirname(d)) fs.chmodSync(d, 0o755);
    execFileSync('chmod', ['-R', 'a+rX', dir]);
  }
  fs.chmodSync(path.join(dir, ...unreadable.split('/')), 0);
  const cmd = isRoot ? ['/usr/sbin/runuser', '-u', 'nobody', '--', ...node] : node;
  const out = execFileSync(cmd[0], cmd.slice(1), { cwd: fileURLToPath(new URL('../..', import.meta.url)), env: { ...process.env, HOME: os.tmpdir() }, encoding: 'utf8' });
  return JSON.parse(out) as ReturnType<typeof stampAsUser>;
}
