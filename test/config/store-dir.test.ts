// storeSetting reads `store:` from kiln.yaml without the YAML parser when the file is simple: for every text here it
// must say what the parser says (a parse error: it throws too), and it must not load the parser for the simple ones.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { storeSetting } from '../../src/config/store-dir.ts';
import { copyProject, repoRoot } from '../helpers/project.ts';

const byParser = (text: string) => {
  try {
    return { store: (parse(text, { maxAliasCount: 100 }) as { store?: unknown } | null)?.store };
  } catch {
    return 'throws';
  }
};
const bySetting = (text: string) => {
  try {
    return { store: storeSetting(text) };
  } catch {
    return 'throws';
  }
};

const scaffold = fs.readFileSync(path.join(repoRoot, 'src', 'gitops', 'templates', 'init', 'kiln.yaml.tmpl'), 'utf8').replace(/\{\{(\w+)\}\}/g, 'x');
const cases: Array<[string, string]> = [
  ['the scaffold', scaffold],
  ['this repository', fs.readFileSync(path.join(repoRoot, 'kiln.yaml'), 'utf8')],
  ['no store', 'name: mini\n'],
  ['empty file', ''],
  ['comments only', '# nothing\n'],
  ['plain store', 'name: a\nstore: runs/store # here\n'],
  ['CRLF', 'name: a\r\nstore: .runs\r\n'],
  ['quoted', 'store: ".kiln-q"\n'],
  ['single-quoted', "store: 'st'\n"],
  ['escaped key', 'name: a\n"\\x73tore": escaped\n'],
  ['number', 'store: 123\n'],
  ['float without a leading digit', 'store: .5\n'],
  ['infinity', 'store: .inf\n'],
  ['boolean', 'store: true\n'],
  ['null word', 'store: null\n'],
  ['empty value', 'store:\n'],
  ['nested store only', 'git:\n  store: inner\n'],
  ['nested and top', 'git:\n  main: main\n  store: inner\nstore: top\n'],
  ['duplicate key', 'store: a\nstore: b\n'],
  ['duplicate boolean keys', 'true: a\nTrue: b\nstore: s\n'],
  ['inside a multi-line quoted string', 'name: "a\nstore: b"\n'],
  ['inside a block scalar', 'description: |\n  text\n  store: b\n'],
  ['after a block scalar', 'description: >\n  text\nstore: after\n'],
  ['flow mapping', '{ name: a, store: flow }\n'],
  ['anchor and alias', 'x: &s stored\nstore: *s\n'],
  ['merge key', 'base: &b\n  store: merged\n<<: *b\n'],
  ['two documents', 'store: a\n---\nstore: b\n'],
  ['document start', '---\nstore: a\n'],
  ['continuation line', 'name: a\n  b\nstore: c\n'],
  ['bad indentation', 'git:\n    main: a\n  other: b\nstore: c\n'],
  ['indented first line', '  name: a\nstore: c\n'],
  ['tab indentation', 'git:\n\tmain: a\nstore: c\n'],
  ['hash without a space', 'store: a#b\n'],
  ['value with a colon', 'store: a:b\n'],
  ['list', 'tags:\n  - a\nstore: listed\n'],
  ['tagged', 'store: !!str 42\n'],
  ['not a mapping', 'just text\n'],
];

describe('storeSetting', () => {
  it.each(cases)('%s: the same as the YAML parser', (_name, text) => {
    expect(bySetting(text)).toEqual(byParser(text));
  });

  it('kiln runs list on a scaffold-shaped kiln.yaml finds the store it names without loading the YAML parser', () => {
    const root = copyProject('mini');
    fs.writeFileSync(path.join(root, 'kiln.yaml'), scaffold.replace('store: .kiln', 'store: .kiln-elsewhere').replace(/^name: x$/m, 'name: mini'));
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    for (const k of ['FORCE_COLOR', 'VITEST', 'VITEST_WORKER_ID', 'VITEST_POOL_ID']) delete env[k];
    const kiln = (args: string[], extra: NodeJS.ProcessEnv = {}) => spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'kiln.js'), ...args], { cwd: root, env: { ...env, ...extra }, encoding: 'utf8', timeout: 120_000 });
    const run = kiln(['run']);
    expect(run.status, run.stderr).toBe(0);
    expect(fs.existsSync(path.join(root, '.kiln-elsewhere'))).toBe(true);
    // Node's module debug log names every CommonJS file loaded (yaml is CommonJS).
    const list = kiln(['runs', 'list'], { NODE_DEBUG: 'module' });
    expect(list.status, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/FINISHED/);
    expect(list.stderr).toContain('/node_modules/better-sqlite3/');
    expect(list.stderr).not.toContain('/node_modules/yaml/');
  });
});
