// The kiln command line: help, version, exit codes (0 valid, 1 user error, 2 bad invocation), --json, colour, and
// compile / compile --check on a real folder. Most runs are in-process through main(argv, io); a few are real child
// processes, where the exit code and the environment (TTY, NO_COLOR, FORCE_COLOR) are the point.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { processIo } from '../../src/cli/io.ts';
import { colorEnabled, renderDiagnostics } from '../../src/diagnostics/render.ts';
import { diag } from '../../src/diagnostics/diagnostic.ts';
import { runCli, runMain } from '../helpers/cli.ts';
import { copyProject, fixturesDir, repoRoot } from '../helpers/project.ts';
import { casesDir } from '../helpers/cases.ts';

const version = (JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
const mini = path.join(fixturesDir, 'projects', 'mini');
const ANSI = /\u001b\[\d+m/;

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('invocation', () => {
  it('prints the version with --version and -V', async () => {
    expect(await runMain(['--version'], { cwd: repoRoot })).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    expect(await runMain(['-V'], { cwd: repoRoot })).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('prints help for a command with exit code 0', async () => {
    const r = await runMain(['validate', '--help'], { cwd: repoRoot });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: kiln validate [options]');
    expect(r.stdout).toContain('--project <dir>');
    expect(r.stdout).toContain('--json');
  });

  it.each<[string, string[], string]>([
    ['an unknown command, with a suggestion', ['valdate'], "error: unknown command 'valdate'\n(Did you mean validate?)\n"],
    ['an unknown option', ['validate', '--bogus'], "error: unknown option '--bogus'\n"],
    ['an option without its value', ['validate', '--project'], "error: option '--project <dir>' argument missing\n"],
    ['an unknown option of compile', ['compile', '--chek'], "error: unknown option '--chek'\n(Did you mean --check?)\n"],
  ])('exits 2 on %s', async (_what, args, stderr) => {
    expect(await runMain(args, { cwd: repoRoot })).toEqual({ code: 2, stdout: '', stderr });
  });
});

describe('validate', () => {
  it('exits 0 on a valid project and says what it found', async () => {
    expect(await runMain(['validate', '--project', mini], { cwd: repoRoot })).toEqual({ code: 0, stdout: '', stderr: 'valid: 1 pipeline(s), 2 node(s), 2 catalog entries\n' });
  });

  it('exits 0 with warnings only, and 1 with an error', async () => {
    expect((await runMain(['validate', '--project', path.join(casesDir, 'unused-catalog-entry')], { cwd: repoRoot })).code).toBe(0);
    expect((await runMain(['validate', '--project', path.join(casesDir, 'unknown-key')], { cwd: repoRoot })).code).toBe(1);
  });

  it('finds the project from the working directory by default', async () => {
    expect((await runMain(['validate'], { cwd: mini })).code).toBe(0);
    expect((await runMain(['validate'], { cwd: path.join(casesDir, 'unknown-key') })).code).toBe(1);
  });

  it('prints --json diagnostics as an array on stdout, paths relative to the working directory', async () => {
    const r = await runMain(['validate', '--json', '--project', path.join(casesDir, 'unknown-dataset')], { cwd: repoRoot });
    // A dataset nothing produces or loads is an error in validate, so that CI fails before `kiln run` does.
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    const list = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    expect(list).toEqual([
      {
        code: 'KILN2010',
        severity: 'warning',
        file: 'test/fixtures/diagnostics/unknown-dataset/pipelines/catalog.yaml',
        line: 1,
        column: 1,
        endLine: 1,
        endColumn: 8,
        message: "catalog entry 'numbers' is not used by any pipeline",
        hint: 'Remove it, or use it as an input or output of a node.',
      },
      {
        code: 'KILN2009',
        severity: 'error',
        file: 'test/fixtures/diagnostics/unknown-dataset/pipelines/demo/pipeline.yaml',
        line: 5,
        column: 13,
        endLine: 5,
        endColumn: 20,
        message: "dataset 'nubmers' is an input of pipeline 'demo' but is not in the catalog and no node produces it. did you mean 'numbers'?",
        hint: 'Declare it in the catalog so kiln can load it, or fix the name: nothing could load or produce it, so `kiln run` would fail.',
      },
    ]);
    for (const d of list) expect(Object.keys(d)).toEqual(['code', 'severity', 'file', 'line', 'column', 'endLine', 'endColumn', 'message', 'hint']);
  });

  it('prints --json errors with exit code 1, nulls where there is no location, and the TypeScript detail', async () => {
    const missing = await runMain(['validate', '--json', '--project', path.join(casesDir, 'missing-project-file')], { cwd: repoRoot });
    expect(missing.code).toBe(1);
    const [d] = JSON.parse(missing.stdout) as Array<Record<string, unknown>>;
    expect(d).toMatchObject({ code: 'KILN1011', severity: 'error', file: null, line: null, column: null, endLine: null, endColumn: null });
    const typed = await runMain(['compile', '--check', '--json', '--project', path.join(casesDir, 'typecheck-wrong-output')], { cwd: repoRoot });
    expect(typed.code).toBe(1);
    expect(JSON.parse(typed.stdout)).toEqual([
      {
        code: 'KILN2022',
        severity: 'error',
        file: 'test/fixtures/diagnostics/typecheck-wrong-output/pipelines/demo/pipeline.yaml',
        line: 9,
        column: 14,
        endLine: 9,
        endColumn: 25,
        message: "output 'email_count' of node 'count' is number, but dataset 'email_count' holds string",
        hint: "Make count return what the catalog entry 'email_count' declares (its schema or dataset type), or change the entry.",
        detail: "Type 'number' does not satisfy the expected type 'string'.",
      },
    ]);
  });

  it('prints an empty array for a valid project with --json', async () => {
    expect(await runMain(['validate', '--json', '--project', mini], { cwd: repoRoot })).toEqual({ code: 0, stdout: '[]\n', stderr: '' });
  });
});

describe('compile', () => {
  it('writes generated/, then finds it up to date, then stale after a change, and removes what is no longer generated', async () => {
    const root = copyProject('mini');
    const first = await runMain(['compile', '--project', '.'], { cwd: root });
    expect(first).toEqual({ code: 0, stdout: '', stderr: 'compiled 1 pipeline(s): 5 file(s) written, 0 removed, 0 unchanged\n' });
    for (const f of ['datasets.ts', 'demo.ts', 'index.ts', 'parameters.ts', 'schemas/numbers.ts']) {
      const snapshot = fs.readFileSync(path.join(repoRoot, 'test/compiler/__snapshots__/mini/generated', `${f}.snap`), 'utf8');
      expect(fs.readFileSync(path.join(root, 'generated', f), 'utf8'), f).toBe(snapshot);
    }
    expect(await runMain(['compile', '--check', '--project', '.'], { cwd: root })).toEqual({ code: 0, stdout: '', stderr: 'generated/ is up to date (5 files)\n' });
    expect((await runMain(['compile', '--project', '.'], { cwd: root })).stderr).toBe('compiled 1 pipeline(s): 0 file(s) written, 0 removed, 5 unchanged\n');

    fs.writeFileSync(path.join(root, 'pipelines/parameters.yaml'), 'scale: 3\nstats:\n  offset: 1.5\n  label: total\n  extra: true\n');
    fs.writeFileSync(path.join(root, 'generated/old.ts'), '// generated by kiln from pipelines/old/pipeline.yaml; do not edit; run `kiln compile`\n');
    fs.writeFileSync(path.join(root, 'generated/mine.ts'), '// written by hand\n');
    const stale = await runMain(['compile', '--check', '--project', '.'], { cwd: root });
    expect(stale.code).toBe(1);
    expect(stale.stderr).toBe('error KILN2024: generated code is stale: generated/parameters.ts, generated/old.ts (no longer generated)\n  hint: Run `kiln compile` and commit the result.\n\n1 error, 0 warnings\n');
    expect((await runMain(['compile', '--project', '.'], { cwd: root })).stderr).toBe('compiled 1 pipeline(s): 1 file(s) written, 1 removed, 4 unchanged\n');
    expect(fs.existsSync(path.join(root, 'generated/old.ts'))).toBe(false);
    expect(fs.existsSync(path.join(root, 'generated/mine.ts'))).toBe(true);
    expect((await runMain(['compile', '--check', '--project', '.'], { cwd: root })).code).toBe(0);
  });

  it('writes nothing and exits 1 when the wiring does not type-check', async () => {
    const root = copyProject(path.join(casesDir, 'typecheck-wrong-input'));
    const r = await runMain(['compile', '--project', '.'], { cwd: root });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("pipelines/demo/pipeline.yaml:12:22 error KILN2022: input 'texts' of node 'lengths' is Email[], but lengths expects 'texts: string[]'");
    expect(fs.existsSync(path.join(root, 'generated'))).toBe(false);
  });
});

describe('colour', () => {
  const list = [diag('KILN2010', { dataset: 'x' }, { file: 'c.yaml', line: 1, column: 1, endLine: 1, endColumn: 2 })];
  const opts = { source: () => 'x:\n  type: json\n' };

  it('paints only when asked to', () => {
    const plain = renderDiagnostics(list, { ...opts, color: false });
    const painted = renderDiagnostics(list, { ...opts, color: true });
    expect(plain).not.toMatch(ANSI);
    expect(painted).toMatch(ANSI);
    expect(painted.replace(/\u001b\[\d+m/g, '')).toBe(plain);
    expect(painted).toContain('\u001b[33mwarning\u001b[0m');
  });

  it.each<[string, Record<string, string | undefined>, boolean, boolean]>([
    ['a TTY', {}, true, true],
    ['a pipe', {}, false, false],
    ['NO_COLOR on a TTY', { NO_COLOR: '1' }, true, false],
    ['FORCE_COLOR on a pipe', { FORCE_COLOR: '1' }, false, true],
    ['FORCE_COLOR=0 on a TTY', { FORCE_COLOR: '0' }, true, true],
    ['NO_COLOR and FORCE_COLOR together', { NO_COLOR: '1', FORCE_COLOR: '1' }, true, false],
    ['an empty NO_COLOR (unset, per no-color.org)', { NO_COLOR: '' }, true, true],
  ])('is %s → %s', (_what, env, isTTY, want) => {
    vi.stubEnv('NO_COLOR', undefined);
    vi.stubEnv('FORCE_COLOR', undefined);
    for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
    expect(colorEnabled({ isTTY } as NodeJS.WriteStream)).toBe(want);
  });

  it('is decided by processIo from the environment', () => {
    vi.stubEnv('FORCE_COLOR', '1');
    vi.stubEnv('NO_COLOR', '1');
    expect(processIo().colorErr).toBe(false);
    vi.stubEnv('NO_COLOR', undefined);
    expect(processIo().colorErr).toBe(true);
  });
});

describe('the real bin (child processes)', () => {
  const failing = path.join(casesDir, 'unknown-key');

  it('exits 0 on a valid project and prints the version', () => {
    const r = runCli(['validate', '--project', mini], { cwd: repoRoot });
    expect(r).toEqual({ code: 0, stdout: '', stderr: 'valid: 1 pipeline(s), 2 node(s), 2 catalog entries\n' });
    expect(runCli(['--version'], { cwd: repoRoot })).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('exits 1 on a user error, printing the fixture text without colour when output is not a TTY', () => {
    const r = runCli(['validate'], { cwd: failing });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(fs.readFileSync(path.join(failing, 'expected.txt'), 'utf8'));
  });

  it('colours with FORCE_COLOR, and never with NO_COLOR', () => {
    const forced = runCli(['validate'], { cwd: failing, env: { FORCE_COLOR: '1' } });
    expect(forced.code).toBe(1);
    expect(forced.stderr).toMatch(ANSI);
    const both = runCli(['validate'], { cwd: failing, env: { FORCE_COLOR: '1', NO_COLOR: '1' } });
    expect(both.code).toBe(1);
    expect(both.stderr).not.toMatch(ANSI);
    expect(both.stderr).toBe(forced.stderr.replace(/\u001b\[\d+m/g, ''));
  });

  it('exits 2 on a bad invocation', () => {
    const r = runCli(['valdate'], { cwd: repoRoot });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("error: unknown command 'valdate'\n(Did you mean validate?)\n");
  });
});
