// The real CLI as a child process: Ctrl-C (or SIGTERM) during a slow node ends the run as KILLED with a resume hint, and a node
// that throws is reported with the user's stack frames only (under tsx, as users run it).
import { beforeAll, describe, expect, it } from 'vitest';
import { cloneProject, warmProject } from '../helpers/warm-project.ts';
import { kiln, startKiln, until } from './kiln-process.ts';

let template: string;
beforeAll(async () => {
  template = await warmProject('fanout');
});

describe('kiln run as a child process', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('%s during a slow node: the node finishes, nothing else starts, exit 1 with KILN3010, the run is KILLED', async (signal) => {
    const root = cloneProject(template);
    const child = startKiln(['run', '--project', root, '--params', 'delay_ms=2000'], root);
    await until(() => child.stderr().includes('left_branch: running'), 'the slow node to start');
    child.proc.kill(signal);
    const r = await child.exited;
    expect(r.signal).toBeNull();
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`error KILN3010: run interrupted (${signal}) while the pipeline ran`);
    expect(r.stderr).toContain('There are 3 nodes that did not run.');
    expect(r.stderr).toContain('--from-nodes "right_branch"');
    expect(r.stderr).toMatch(/^left_branch\s+done/m);
    expect(r.stderr).toMatch(/^right_branch\s+not run/m);
    expect(r.stderr).not.toContain('right_branch: running');

    const list = await kiln(['runs', 'list', '--project', root, '--json'], root);
    const runs = JSON.parse(list.stdout) as Array<{ status: string; error: string | null }>;
    expect(runs).toHaveLength(1);
    expect(runs[0].status).toBe('KILLED');
    expect(runs[0].error).toBe(`run interrupted (${signal}) while the pipeline ran`);
  });

  it("a failing node shows the user's frames, none of kiln's or Node's", async () => {
    const root = cloneProject(template);
    const r = await kiln(['run', '--project', root, '--no-track', '--params', 'fault=combine:throw'], root);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error KILN3003: node 'combine' failed: RangeError: combine: total 20 is out of range");
    const frames = r.stderr.split('\n').filter((l) => /^\s+at /.test(l));
    expect(frames.length).toBeGreaterThan(0);
    for (const f of frames) expect(f).toMatch(/pipelines\/flow\/nodes\.ts:\d+:\d+\)$/);
    expect(r.stderr).not.toMatch(/src\/runtime\/|node:async_hooks|node:internal/);
  });
});
