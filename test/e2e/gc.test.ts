// `kiln gc` and `kiln runs delete` through the CLI, beside a real `kiln run` in progress: the run loses nothing it
// wrote, and what only a deleted run referenced is freed.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { copyProject } from '../helpers/project.ts';
import { warmProject } from '../helpers/warm-project.ts';
import { kiln, startKiln, until } from './kiln-process.ts';
import { openTracking } from '../../src/tracking/index.ts';

/** Sets every file time under `dir` to `ms` (what the store looks like after a while). */
function age(p: string, ms: number): void {
  if (fs.statSync(p).isDirectory()) for (const name of fs.readdirSync(p)) age(path.join(p, name), ms);
  fs.utimesSync(p, ms / 1000, ms / 1000);
}

describe('kiln gc beside a run in progress', () => {
  let project: string;
  beforeAll(async () => {
    const src = copyProject('mini', 'kiln-gc-src-');
    // summarize waits for a file named go, so that the test can act while the run is in progress.
    fs.appendFileSync(
      path.join(src, 'pipelines/demo/nodes.ts'),
      `\nexport async function waitForGo(values: number[]): Promise<number[]> {\n  const fs = await import('node:fs');\n  while (!fs.existsSync('go')) await new Promise((r) => setTimeout(r, 20));\n  return values;\n}\n`,
    );
    const pipeline = path.join(src, 'pipelines/demo/pipeline.yaml');
    fs.writeFileSync(pipeline, fs.readFileSync(pipeline, 'utf8').replace('inputs: [scaled, params:stats]', 'inputs: [waited, params:stats]') + `  - name: wait\n    run: ./nodes.ts#waitForGo\n    inputs: [scaled]\n    outputs: waited\n`);
    project = await warmProject(src);
  });

  it('frees what a deleted run alone used; a run in progress meanwhile finishes whole and is reused by the next', async () => {
    fs.writeFileSync(path.join(project, 'go'), '');
    const first = await kiln(['run', '--json'], project);
    expect(first.code, first.stderr).toBe(0);
    const a = JSON.parse(first.stdout).run_id as string;
    fs.rmSync(path.join(project, 'go'));

    // A run with other parameters is under way (waiting in node wait) when run a is deleted and gc runs.
    const b = startKiln(['run', '--params', 'scale=3'], project);
    await until(() => b.stderr().includes('wait: running'), 'run b to reach node wait');
    const tracking = openTracking(path.join(project, '.kiln'));
    const [{ id: bId }] = await tracking.runs.listRuns({ status: 'RUNNING' });
    const bObjects = new Set((await tracking.runs.getRun(bId)).nodes.flatMap((n) => Object.values(n.outputs).map((o) => o.object)));
    tracking.close();
    const refused = await kiln(['runs', 'delete', bId], project);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`error KILN4018: run ${bId} cannot be deleted: it is still RUNNING`);

    const deleted = await kiln(['runs', 'delete', a], project);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stdout).toBe(`deleted run ${a}\n`);
    // As if run a had been a while ago; run b's own objects are as new as they are.
    const hourAgo = Date.now() - 3_600_000;
    const objects = path.join(project, '.kiln', 'objects');
    for (const prefix of fs.readdirSync(objects)) for (const rest of fs.readdirSync(path.join(objects, prefix))) if (!bObjects.has(prefix + rest)) age(path.join(objects, prefix, rest), hourAgo);

    const dry = await kiln(['gc', '--dry-run', '--json'], project);
    expect(dry.code, dry.stderr).toBe(0);
    const planned = JSON.parse(dry.stdout);
    expect(planned.dryRun).toBe(true);
    expect(planned.objects.count).toBeGreaterThan(0);
    const gc = await kiln(['gc', '--json'], project);
    expect(gc.code, gc.stderr).toBe(0);
    expect(JSON.parse(gc.stdout)).toEqual({ ...planned, dryRun: false });

    fs.writeFileSync(path.join(project, 'go'), '');
    expect((await b.exited).code, b.stderr()).toBe(0);
    const again = await kiln(['run', '--params', 'scale=3', '--json'], project);
    expect(JSON.parse(again.stdout).nodes.map((n: { status: string }) => n.status)).toEqual(['skipped', 'skipped', 'skipped']);
  });
});
