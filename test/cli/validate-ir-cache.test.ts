// `kiln validate` recalls the resolved declarations (src/ir-cache.ts) when no file the last analysis read has changed:
// observed from outside, it then loads neither the YAML parser nor the schema validators, yet prints exactly what a
// fresh analysis prints (warnings of resolution included), and any edit is judged afresh.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { copyProject, repoRoot, tempDir } from '../helpers/project.ts';

const recorder = path.join(repoRoot, 'test', 'helpers', 'record-modules.mjs');

function validate(root: string) {
  return kiln(root, 'validate');
}

function kiln(root: string, ...args: string[]) {
  const list = path.join(tempDir('kiln-modules-'), 'modules.txt');
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', KILN_RECORD_MODULES: list };
  for (const k of ['FORCE_COLOR', 'VITEST', 'VITEST_WORKER_ID', 'VITEST_POOL_ID']) delete env[k];
  const r = spawnSync(process.execPath, ['--import', recorder, path.join(repoRoot, 'bin', 'kiln.js'), ...args], { cwd: root, env, encoding: 'utf8', timeout: 120_000 });
  const modules = fs.existsSync(list) ? fs.readFileSync(list, 'utf8').trim().split('\n') : [];
  // Whether the declarations were parsed: the carried YAML parser or a schema validator was loaded.
  const parsed = modules.some((u) => u.endsWith('/lib/vendor/yaml.js') || /\/lib\/config\/validate\.js$/.test(u));
  return { code: r.status, stderr: r.stderr, parsed };
}

const pipelineFile = (root: string) => path.join(root, 'pipelines', 'demo', 'pipeline.yaml');

describe('kiln validate and the remembered IR', () => {
  it('a second validate parses nothing and prints the same diagnostics, a warning of resolution included', () => {
    const root = copyProject('mini');
    // An unknown format: KILN1022, a warning found while resolving the catalog (not by the checks, which always run).
    fs.writeFileSync(path.join(root, 'pipelines', 'demo', 'numbers.schema.json'), '{ "type": "array", "items": { "type": "number", "format": "no-such-format" } }\n');
    const first = validate(root);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('warning KILN1022');
    expect(first.parsed).toBe(true);
    const again = validate(root);
    expect(again.code, again.stderr).toBe(0);
    expect(again.parsed).toBe(false);
    expect(again.stderr).toBe(first.stderr);
  });

  it('an edited declaration is parsed again: a syntax error, then a cycle (found from the remembered IR too), then valid', () => {
    const root = copyProject('mini');
    expect(validate(root).code).toBe(0);
    const clean = fs.readFileSync(pipelineFile(root), 'utf8');

    fs.writeFileSync(pipelineFile(root), clean.replace('outputs: scaled', 'outputs: [scaled'));
    const broken = validate(root);
    expect(broken.code).toBe(1);
    expect(broken.parsed).toBe(true);
    expect(broken.stderr).toMatch(/error KILN\d{4}/);
    expect(broken.stderr).toContain('pipeline.yaml:');

    // scale reads what summarize writes, which reads what scale writes.
    fs.writeFileSync(pipelineFile(root), clean.replace('values: numbers', 'values: summary'));
    const cyclic = validate(root);
    expect(cyclic.code).toBe(1);
    expect(cyclic.parsed).toBe(true);
    expect(cyclic.stderr).toMatch(/cycle/i);
    const cyclicAgain = validate(root);
    expect(cyclicAgain.parsed).toBe(false);
    expect(cyclicAgain.code).toBe(1);
    expect(cyclicAgain.stderr).toBe(cyclic.stderr);

    fs.writeFileSync(pipelineFile(root), clean);
    const fixed = validate(root);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.parsed).toBe(true);
    expect(fixed.stderr).toBe('valid: 1 pipeline(s), 2 node(s), 2 catalog entries\n');
  });

  it('a damaged or foreign IR cache only costs parsing again', () => {
    const root = copyProject('mini');
    expect(validate(root).code).toBe(0);
    const cache = path.join(root, '.kiln', 'cache', 'ir.bin');
    expect(fs.existsSync(cache)).toBe(true);
    fs.writeFileSync(cache, 'not a v8 serialization');
    const damaged = validate(root);
    expect(damaged.code, damaged.stderr).toBe(0);
    expect(damaged.parsed).toBe(true);
    expect(validate(root).parsed).toBe(false);
  });

  it('kiln compile remembers the IR it analysed: the kiln run after it parses no declaration', () => {
    // A first run without a compile before it parses (test/cli/startup.test.ts shows it loading the parser).
    const root = copyProject('mini');
    const compiled = kiln(root, 'compile');
    expect(compiled.code, compiled.stderr).toBe(0);
    expect(compiled.parsed).toBe(true);
    const run = kiln(root, 'run');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('finished: 2 node(s)');
    expect(run.parsed).toBe(false);

    // An edit after the compile is parsed by the run.
    fs.writeFileSync(pipelineFile(root), fs.readFileSync(pipelineFile(root), 'utf8').replace('outputs: scaled', 'outputs: [scaled'));
    const broken = kiln(root, 'run');
    expect(broken.code).toBe(1);
    expect(broken.parsed).toBe(true);
  });
});
