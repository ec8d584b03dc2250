// Each way an inference path can pass a naive parity check yet predict differently later: statistics of the batch,
// reading a project file, the clock, an environment variable, unseeded Math.random. kiln run refuses each, naming it.
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyFixture, kiln } from './support.ts';

// The fixture project has no Node.js type declarations; these stand in for them where a variant needs Node.
const NODE_FS = "// @ts-ignore: no Node.js types in the fixture project\nimport { readFileSync } from 'node:fs';\n";
const NODE_ENV = 'declare const process: { env: Record<string, string | undefined> };\n';

const Z = 'const z = (r.x - args.stats.mean) / args.stats.std;';

interface Variant {
  /** Replaces the line computing z in the fixture's score node. */
  z: string;
  /** Lines added at the top of nodes.ts. */
  head?: string;
  /** Lines added at the end of nodes.ts. */
  tail?: string;
  /** The score node's exemptions (inference.allow). */
  allow?: string[];
  files?: Record<string, string>;
}

/** A scorer project whose score node computes z as the variant says, then `kiln run` on it. */
async function runVariant(v: Variant, env: Record<string, string> = {}): Promise<{ code: number; stderr: string; artifacts: string[] }> {
  const dir = await copyFixture('scorer');
  const nodes = path.join(dir, 'pipelines', 'score', 'nodes.ts');
  const text = await fs.readFile(nodes, 'utf8');
  expect(text).toContain(Z);
  await fs.writeFile(nodes, `${v.head ?? ''}${text.replace(Z, v.z)}${v.tail ?? ''}`);
  if (v.allow) {
    const decl = path.join(dir, 'pipelines', 'score', 'pipeline.yaml');
    const yaml = await fs.readFile(decl, 'utf8');
    await fs.writeFile(decl, yaml.replace('    tags: [inference]\n', `    tags: [inference]\n    inference: { allow: [${v.allow.join(', ')}] }\n`));
  }
  for (const [rel, content] of Object.entries(v.files ?? {})) await fs.writeFile(path.join(dir, rel), content);
  const r = await kiln(['run'], dir, env);
  const artifacts = await fs.readdir(path.join(dir, '.kiln', 'artifacts', 'scorer')).catch(() => []);
  await fs.rm(dir, { recursive: true, force: true });
  return { code: r.code, stderr: r.stderr, artifacts };
}

function expectRefused(r: { code: number; stderr: string; artifacts: string[] }): void {
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
  // Nothing half-written: no artifact folder (finished or building) is left.
  expect(r.artifacts).toEqual([]);
}

// Seven projects trained and packaged at once: on a busy machine that takes longer than one test usually may.
describe.concurrent('parity cannot be fooled', { timeout: 300_000 }, () => {
  it('refuses a node that standardises with the batch statistics (KILN6011), naming the record and the batch size', async () => {
    const r = await runVariant({
      z: 'const z = (r.x - batchMean(args.rows)) / args.stats.std;',
      tail: '\nfunction batchMean(rows: Array<Pick<Row, "x">>): number {\n  return rows.reduce((s, q) => s + q.x, 0) / rows.length;\n}\n',
    });
    expectRefused(r);
    expect(r.stderr).toMatch(/KILN6011: parity check failed: record 1 gives \{"positive":false,"z":0\} when predicted alone \(a batch of 1\), but \{"positive":(true|false),"z":[-\d.e]+\} in one batch of all 10: the inference path's output for a row depends on the other rows of its batch/);
    expect(r.stderr).toMatch(/A row's result must not depend on the other rows/);
  });

  it('refuses, at bundle time, inference code that reads a file or an environment variable (KILN6012, KILN6013), with a code frame', async () => {
    const r = await runVariant({
      head: NODE_FS + NODE_ENV,
      z: "const z = (r.x - args.stats.mean) / args.stats.std + Number(readFileSync('offset.txt', 'utf8')) + Number(process.env.SCORER_OFFSET ?? 0);",
      files: { 'offset.txt': '0\n' },
    });
    expectRefused(r);
    expect(r.stderr).toMatch(/pipelines\/score\/nodes\.ts:2:30 error KILN6012: node 'score' of model 'scorer' imports 'node:fs' on the inference path \(pipelines\/score\/nodes\.ts:2\)/);
    expect(r.stderr).toMatch(/> 2 \| import \{ readFileSync \} from 'node:fs';/);
    expect(r.stderr).toMatch(/declare it on node 'score' in pipelines\/score\/pipeline\.yaml: `inference: \{ allow: \[fs\] \}`/);
    expect(r.stderr).toMatch(/pipelines\/score\/nodes\.ts:36:\d+ error KILN6013: node 'score' of model 'scorer' reads process\.env on the inference path/);
  });

  it('refuses an inference path that reads the clock (KILN6014)', async () => {
    const r = await runVariant({ z: 'const z = (r.x - args.stats.mean) / args.stats.std + (new Date().getFullYear() - 2000) * 1e-3;' });
    expectRefused(r);
    expect(r.stderr).toMatch(/KILN6014: parity check failed: output changed when the clock moved forward by 3 years, 41 days, 7 hours and 13 minutes: record 1 gives/);
  });

  it('refuses an exempted environment read whose value matters (KILN6015)', async () => {
    const r = await runVariant({ allow: ['process.env'], head: NODE_ENV, z: 'const z = (r.x - args.stats.mean) / args.stats.std + Number(process.env.SCORER_OFFSET ?? 0);' }, { SCORER_OFFSET: '0.25' });
    expectRefused(r);
    expect(r.stderr).toMatch(/KILN6015: parity check failed: output changed when environment variables were removed: record 1 gives \{"positive":(true|false),"z":[-\d.e]+\}, but training computed/);
  });

  it('refuses an exempted file read by a relative path (KILN6015)', async () => {
    const r = await runVariant({
      allow: ['fs'],
      head: NODE_FS,
      z: "const z = (r.x - args.stats.mean) / args.stats.std + Number(readFileSync('offset.txt', 'utf8'));",
      files: { 'offset.txt': '0.5\n' },
    });
    expectRefused(r);
    expect(r.stderr).toMatch(/KILN6015: parity check failed: output changed in another working directory \(.*kiln-parity-.*\): record 1 gives an error \(Error: ENOENT: no such file or directory, open 'offset.txt'\)/);
  });

  it('refuses Math.random on the inference path (KILN6016), pointing to the seeded generator', async () => {
    const r = await runVariant({ z: 'const z = (r.x - args.stats.mean) / args.stats.std + Math.random() * 1e-9;' });
    expectRefused(r);
    expect(r.stderr).toMatch(/KILN6016: parity check failed: the inference path called Math\.random \(in pipelines\/score\/nodes\.ts, function score\)/);
    expect(r.stderr).toMatch(/import \{ createRandom \} from 'kiln-ml\/ml'/);
  });

  it('passes correct preprocessing, checked one at a time and in a random partition as well', async () => {
    const r = await runVariant({ z: Z });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/parity: 10 record\(s\) identical to training on no TensorFlow.js backend \(checked in fresh processes: one batch, 10 alone, \d+ batches of mixed sizes, and again away from the project; [\d.]+s\)/);
    expect(r.artifacts).toHaveLength(1);
  });
});
