// Temporary project folders for tests: copies of fixture projects, or projects written from a map of files.
// Every folder made here is removed when the test file ends.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import type { ProjectHost } from '../../src/config/host.ts';

const made: string[] = [];

const cleanUp = () => {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
};
// Outside vitest (a script reusing these helpers) there is no test file to end; clean up on exit instead.
if (process.env.VITEST) afterAll(cleanUp);
else process.on('exit', cleanUp);

/** The repository root (where package.json and bin/kiln.js are). */
export const repoRoot = path.resolve(fileURLToPath(new URL('../../', import.meta.url)));

export const fixturesDir = path.join(repoRoot, 'test', 'fixtures');

export function tempDir(prefix = 'kiln-test-'): string {
  // realpath: on some systems the temp folder is a symlink, and paths printed by kiln are resolved ones.
  const d = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  made.push(d);
  return d;
}

/** Writes `files` (project-relative POSIX path → content) under `root`. */
export function writeFiles(root: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    const abs = path.join(root, ...rel.split('/'));
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, text);
  }
}

/** kiln projects are ES module packages (KILN1015); a temporary one outside the repository needs its own package.json. */
function ensurePackageJson(root: string): void {
  const file = path.join(root, 'package.json');
  if (!fs.existsSync(file)) fs.writeFileSync(file, '{ "type": "module" }\n');
}

/** A fresh temporary project holding `files` (and a package.json saying "type": "module" unless given). */
export function makeProject(files: Record<string, string>, prefix = 'kiln-project-'): string {
  const root = tempDir(prefix);
  writeFiles(root, files);
  ensurePackageJson(root);
  return root;
}

/** A temporary copy of a project folder (a fixture under test/fixtures/projects, or any path), as an ES module package. */
export function copyProject(src: string, prefix = 'kiln-copy-'): string {
  const from = path.isAbsolute(src) ? src : path.join(fixturesDir, 'projects', src);
  const root = tempDir(prefix);
  // A fixture's store (.kiln, gitignored) is what an earlier command left in the fixture folder: never part of the project.
  fs.cpSync(from, root, { recursive: true, filter: (s) => !s.split(path.sep).some((p) => p === 'node_modules' || p === '.kiln') });
  ensurePackageJson(root);
  return root;
}

/** Every file under `root`, as sorted project-relative POSIX paths. */
export function listFiles(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const child = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFiles(root, child));
    else if (e.isFile()) out.push(child);
  }
  return out.sort();
}

/** A project held in memory (no disk), for the front half of the compiler. */
export function memoryHost(files: Record<string, string>, root = '/memory/project'): ProjectHost {
  const map = new Map(Object.entries(files));
  return {
    root,
    async readFile(rel) {
      return map.get(rel);
    },
    async fileSize(rel) {
      const t = map.get(rel);
      return t === undefined ? undefined : Buffer.byteLength(t, 'utf8');
    },
    async listFiles(relDir) {
      const prefix = relDir === '' ? '' : `${relDir.replace(/\/+$/, '')}/`;
      return [...map.keys()].filter((k) => k.startsWith(prefix)).sort();
    },
  };
}
