// `kiln run --json` as CI scripts use it: one JSON object on stdout (run id, status, nodes, metrics, artifact and
// parity, diagnostics) whatever the outcome, progress on stderr, and the exit code of a plain `kiln run`.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunJson } from '../../src/cli/run-json.ts';
import { cloneProject, warmProject } from '../helpers/warm-project.ts';
import { kiln } from './kiln-process.ts';

describe('kiln run --json', () => {
  let project: string;
  beforeAll(async () => {
    project = cloneProject(await warmProject('scorer'), 'kiln-json-');
  });

  const run = async (...args: string[]) => {
    const r = await kiln(['run', '--project', project, '--json', ...args], project);
    return { code: r.code, stderr: r.stderr, summary: JSON.parse(r.stdout) as RunJson };
  };

  it('a first run: every node ran, metrics, the artifact with its parity, exit 0; progress only on stderr', async () => {
    const { code, stderr, summary } = await run();
    expect(code, stderr).toBe(0);
    expect(summary).toMatchObject({ pipeline: 'score', status: 'FINISHED', exit_code: 0 });
    // Warnings are data too: this project is not a git repository.
    expect(summary.diagnostics.map((d) => [d.code, d.severity])).toEqual([['KILN4001', 'warning']]);
    expect(summary.run_id).toMatch(/^\w+$/);
    expect(stderr).toContain(`run ${summary.run_id} finished`);
    expect(summary.nodes.map((n) => [n.node, n.status])).toEqual([['split', 'ran'], ['fit', 'ran'], ['score', 'ran'], ['evaluate', 'ran']]);
    expect(summary.nodes.every((n) => typeof n.duration_ms === 'number' && n.duration_ms >= 0)).toBe(true);
    expect(summary.metrics.accuracy).toBeGreaterThan(0);
    expect(summary.artifact).toMatchObject({ model: 'scorer', digest: expect.stringMatching(/^[0-9a-f]{64}$/), parity: { verified_by: summary.run_id } });
    expect(summary.artifact!.parity.records).toBeGreaterThan(0);
    expect(fs.existsSync(path.join(project, summary.artifact!.path, 'manifest.json'))).toBe(true);
  });

  it('a run after a hand edit of an output: every node skipped, the restored dataset named (in JSON and on stderr)', async () => {
    fs.writeFileSync(path.join(project, 'data/stats.json'), '{"edited": true}\n');
    const { code, stderr, summary } = await run();
    expect(code, stderr).toBe(0);
    expect(summary.nodes.map((n) => n.status)).toEqual(['skipped', 'skipped', 'skipped', 'skipped']);
    expect(summary.nodes.find((n) => n.node === 'fit')).toMatchObject({ restored: ['stats'], reused_from: expect.any(String) });
    expect(stderr).toContain(`fit: restored data/stats.json: it differed from what node 'fit' produced`);
    expect(fs.readFileSync(path.join(project, 'data/stats.json'), 'utf8')).not.toContain('edited');
  });

  it('a failing node: status FAILED, the node failed and the rest not run, the diagnostic, exit 1', async () => {
    fs.appendFileSync(path.join(project, 'inputs/measurements.jsonl'), '{"id": "not a measurement"}\n');
    const { code, summary } = await run();
    expect(code).toBe(1);
    expect(summary.exit_code).toBe(1);
    expect(summary.status).toBe('FAILED');
    expect(summary.run_id).toMatch(/^\w+$/);
    expect(summary.nodes.map((n) => n.status)).toEqual(['failed', 'not_run', 'not_run', 'not_run']);
    expect(summary.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code)).toEqual(['KILN3104']);
    expect(summary.artifact).toBeNull();
  });

  it('a pipeline that cannot start: run_id null, the diagnostic as data, exit 1', async () => {
    const { code, summary } = await run('nosuch');
    expect(code).toBe(1);
    expect(summary).toMatchObject({ run_id: null, status: 'FAILED', exit_code: 1, nodes: [] });
    expect(summary.diagnostics).toEqual([expect.objectContaining({ code: 'KILN2014', severity: 'error' })]);
  });
});
