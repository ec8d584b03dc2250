// `kiln ui build --out DIR`: the views as a static site, with the same answers the live API gives baked into data.js.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { getJson, scorerProject, startUi, tempDir, type ScorerProject } from './support.ts';

let p: ScorerProject;

function baked(dir: string): Record<string, { status: number; json: unknown }> {
  const text = fs.readFileSync(path.join(dir, 'data.js'), 'utf8');
  const prefix = 'window.KILN_UI_DATA = ';
  expect(text.startsWith(prefix)).toBe(true);
  return JSON.parse(text.slice(prefix.length).replace(/;\n$/, '')) as Record<string, { status: number; json: unknown }>;
}

beforeAll(async () => {
  p = await scorerProject('kiln-ui-export-');
});

describe('kiln ui build', () => {
  it('writes the app and the answers of the live API, with a plan against --base', async () => {
    const out = path.join(tempDir('kiln-ui-site-'), 'site');
    const r = runCli(['ui', 'build', '--out', out, '--project', p.root, '--base', 'main'], { cwd: p.root });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(['app.css', 'app.js', 'data.js', 'index.html', 'kiln-ui.json']);
    const html = fs.readFileSync(path.join(out, 'index.html'), 'utf8');
    expect(html).toMatch(/<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'self';/);
    expect(html.indexOf('src="data.js"')).toBeLessThan(html.indexOf('src="app.js"'));
    expect(html).not.toMatch(/<script>(?!<)/);
    const data = baked(out);
    expect((data['/api/runs?limit=5000'].json as { total: number }).total).toBe(3);
    for (const id of Object.values(p.runs)) expect(data[`/api/runs/${id}`].status).toBe(200);
    expect((data['/api/plan'].json as { plan: { parameters: unknown[] } }).plan.parameters).toEqual([{ key: 'threshold', old: 0.5, new: 0.6 }]);
    expect((data['/api/datasets/measurements/preview'].json as { rows: unknown[] }).rows).toHaveLength(20);
    // The same data as the live app: one function answers both.
    const ui = await startUi(p.root);
    for (const key of ['/api/project', '/api/models', `/api/runs/${p.runs.b}`]) expect(data[key].json).toEqual((await getJson(`${ui.url}${key.slice(1)}`)).json);
    await ui.stop();
  });

  it('replaces its own earlier export, and refuses a folder holding anything else (KILN8007)', () => {
    const base = tempDir('kiln-ui-site-');
    // Without git and runs each build is quick: what is tested here is the folder, not the data.
    const project = path.join(base, 'project');
    fs.cpSync(p.root, project, { recursive: true, filter: (s) => !/[\\/](\.git|\.kiln)$/.test(s) });
    const out = path.join(base, 'site');
    expect(runCli(['ui', 'build', '--out', out], { cwd: project }).code).toBe(0);
    fs.writeFileSync(path.join(out, 'stale.txt'), 'from before');
    expect(runCli(['ui', 'build', '--out', out], { cwd: project }).code).toBe(0);
    expect(fs.existsSync(path.join(out, 'stale.txt'))).toBe(false);
    const mine = path.join(base, 'mine');
    fs.mkdirSync(mine);
    fs.writeFileSync(path.join(mine, 'thesis.tex'), 'precious');
    const r = runCli(['ui', 'build', '--out', mine], { cwd: project });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('KILN8007');
    expect(r.stderr).toContain('thesis.tex');
    expect(fs.readdirSync(mine)).toEqual(['thesis.tex']);
  });
});
