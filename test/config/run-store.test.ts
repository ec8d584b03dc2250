// Which run store a project uses: `store:` in kiln.yaml (a folder, or a postgres:// URL whose ${NAME} references are
// read from the environment) or KILN_STORE for one process; URLs shown masked; mistakes as located diagnostics.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { substituteEnv } from '../../src/config/env-substitution.ts';
import { runStoreOf } from '../../src/config/run-store.ts';
import { storeDirOf } from '../../src/config/store-dir.ts';
import { isKilnError } from '../../src/diagnostics/index.ts';
import { maskStoreUrl } from '../../src/tracking/store-url.ts';
import { runMain } from '../helpers/cli.ts';
import { copyProject, fixturesDir, makeProject } from '../helpers/project.ts';

const project = (store: string) => makeProject({ 'kiln.yaml': `name: p\npipelines: pipelines\nstore: ${store}\n` });

function diagnosticOf(fn: () => unknown) {
  try {
    fn();
  } catch (e) {
    if (isKilnError(e)) return e.diagnostics[0];
    throw e;
  }
  throw new Error('expected a KilnError');
}

describe('environment substitution', () => {
  it('replaces ${NAME} with the variable, lists the unset ones once, and keeps $${ literal', () => {
    expect(substituteEnv('postgres://u:${PW}@h:${PORT}/db', { PW: 's3cret', PORT: '5432' })).toEqual({ value: 'postgres://u:s3cret@h:5432/db', missing: [], used: ['PW', 'PORT'] });
    expect(substituteEnv('${A}-${B}-${A}', { B: '' })).toEqual({ value: '${A}--${A}', missing: ['A'], used: ['B'] });
    expect(substituteEnv('$${PW} and $PW and ${not a name}', { PW: 'x' }).value).toBe('${PW} and $PW and ${not a name}');
  });
});

describe('the run store of a project', () => {
  it('is the embedded store in the folder `store:` names, or .kiln', () => {
    const root = project('runs/store');
    expect(runStoreOf(root, {})).toEqual({ kind: 'sqlite', dir: path.join(root, 'runs/store') });
    expect(runStoreOf(makeProject({ 'kiln.yaml': 'name: p\n' }), {}).kind).toBe('sqlite');
  });

  it('is PostgreSQL for a postgres:// URL, with ${NAME} read from the environment, objects in .kiln, the password masked', () => {
    const root = project("'postgres://kiln:${KILN_PG_PASSWORD}@db.internal:5432/runs'");
    const location = runStoreOf(root, { KILN_PG_PASSWORD: 'p@ss:word' });
    expect(location).toEqual({
      kind: 'postgres',
      url: 'postgres://kiln:p@ss:word@db.internal:5432/runs',
      display: 'postgres://kiln:***@db.internal:5432/runs',
      source: 'kiln.yaml',
      variables: ['KILN_PG_PASSWORD'],
      dir: path.join(root, '.kiln'),
    });
    expect(storeDirOf(root)).toBe(path.join(root, '.kiln'));
  });

  it('names the unset variable and the kiln.yaml line (KILN1028), without needing the secret to validate', async () => {
    const root = project('postgresql://kiln:${KILN_PG_PASSWORD}@db/runs');
    const d = diagnosticOf(() => runStoreOf(root, {}));
    expect(d.code).toBe('KILN1028');
    expect(d.message).toContain('KILN_PG_PASSWORD');
    expect(d.location).toMatchObject({ file: 'kiln.yaml', line: 3, column: 8 });
    expect(d.hint).toContain('export KILN_PG_PASSWORD=');
  });

  it('refuses another URL scheme (KILN1029), in kiln.yaml (also when validating) and in KILN_STORE', async () => {
    const d = diagnosticOf(() => runStoreOf(project('mysql://root:pw@db/runs'), {}));
    expect(d.code).toBe('KILN1029');
    expect(d.message).toContain('mysql://root:***@db/runs');
    expect(d.location).toMatchObject({ file: 'kiln.yaml', line: 3 });
    const env = diagnosticOf(() => runStoreOf(project('.kiln'), { KILN_STORE: 'runs/elsewhere' }));
    expect(env.code).toBe('KILN1029');
    expect(env.message).toContain('KILN_STORE');

    const root = copyProject(path.join(fixturesDir, 'projects', 'mini'));
    const yaml = path.join(root, 'kiln.yaml');
    fs.appendFileSync(yaml, 'store: mysql://root:secret@db/runs\n');
    const refused = await runMain(['validate', '--project', root], { cwd: root });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('KILN1029');
    expect(refused.stderr).not.toContain('secret');
    fs.writeFileSync(yaml, fs.readFileSync(yaml, 'utf8').replace('mysql://root:secret@db/runs', "'postgres://kiln:${UNSET_IN_THIS_TEST}@db/runs'"));
    const fine = await runMain(['validate', '--project', root], { cwd: root });
    expect(fine.code, fine.stderr).toBe(0);
  });

  it('is replaced by KILN_STORE for one process', () => {
    const root = project('.kiln');
    expect(runStoreOf(root, { KILN_STORE: 'postgres://ci:tok@pg:5432/kiln' })).toMatchObject({ kind: 'postgres', url: 'postgres://ci:tok@pg:5432/kiln', display: 'postgres://ci:***@pg:5432/kiln', source: 'KILN_STORE', dir: path.join(root, '.kiln') });
    expect(runStoreOf(root, { KILN_STORE: '' }).kind).toBe('sqlite');
  });

  it('masks passwords in the user part and in password= parameters', () => {
    expect(maskStoreUrl('postgres://u:p%40ss@h/db?sslmode=require&password=x&application_name=k')).toBe('postgres://u:***@h/db?sslmode=require&password=***&application_name=k');
    expect(maskStoreUrl('postgres://u@h/db')).toBe('postgres://u@h/db');
  });
});
