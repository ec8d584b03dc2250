// The JSON API of `kiln ui`, through a real `kiln ui` child process on a project with recorded runs, a registry and
// a git branch that changed a parameter: the data every view (and the static export) is drawn from.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { getJson, scorerProject, startUi, tempDir, XSS, type ScorerProject, type UiProcess } from './support.ts';

let p: ScorerProject;
let ui: UiProcess;

beforeAll(async () => {
  p = await scorerProject();
  ui = await startUi(p.root);
});

describe('kiln ui API', () => {
  it('/api/project: the graph with functions, bindings, parameters and the inference subgraph', async () => {
    const { status, json } = await getJson(`${ui.url}api/project`);
    expect(status).toBe(200);
    expect(json.ok).toBe(true);
    const score = json.graph.pipelines[0];
    expect(score.nodes.map((n: { name: string }) => n.name)).toEqual(['split', 'fit', 'score', 'evaluate']);
    expect(score.nodes[2]).toMatchObject({ func: 'pipelines/score/nodes.ts#score', inputs: [{ key: 'rows', dataset: 'test_rows' }, { key: 'stats', dataset: 'stats' }, { key: 'threshold', dataset: 'params:threshold' }] });
    expect(score.nodes[2].place.file).toBe('pipelines/score/nodes.ts');
    expect(score.model).toMatchObject({ name: 'scorer', input: 'test_rows', output: 'predictions', nodes: ['score'], gate: { accuracy: '>= 0.5' } });
    expect(json.graph.parameters).toMatchObject({ threshold: 0.6, 'split.test_every': 4 });
    expect(json.graph.datasets.measurements).toMatchObject({ type: 'jsonl', path: 'inputs/measurements.jsonl', description: XSS });
  });

  it('/api/runs: pages, the filter language, status and sort; bad queries are diagnostics', async () => {
    const all = await getJson(`${ui.url}api/runs`);
    expect(all.json.total).toBe(3);
    expect(all.json.runs[0].id).toBe(p.runs.c);
    expect(all.json.runs[0].tags.note).toBe(XSS);
    expect(all.json.metricKeys).toEqual(['accuracy', 'loss', 'val_loss']);
    expect(all.json.paramKeys).toEqual(['seed', 'split.test_every', 'threshold']);
    const good = await getJson(`${ui.url}api/runs?filter=${encodeURIComponent('metrics.accuracy > 0.88')}`);
    expect(good.json.runs.map((r: { id: string }) => r.id)).toEqual([p.runs.b]);
    const page = await getJson(`${ui.url}api/runs?offset=1&limit=1&sort=startTime`);
    expect(page.json).toMatchObject({ total: 3, offset: 1, limit: 1 });
    expect(page.json.runs.map((r: { id: string }) => r.id)).toEqual([p.runs.b]);
    const failed = await getJson(`${ui.url}api/runs?status=failed`);
    expect(failed.json.runs.map((r: { id: string }) => r.id)).toEqual([p.runs.c]);
    const typo = await getJson(`${ui.url}api/runs?filter=${encodeURIComponent('metrix.accuracy > 1')}`);
    expect(typo.status).toBe(400);
    expect(typo.json.diagnostics[0].code).toMatch(/^KILN400[56]$/);
    const status = await getJson(`${ui.url}api/runs?status=DONE`);
    expect(status.status).toBe(400);
    expect(status.json.diagnostics[0]).toMatchObject({ code: 'KILN8010' });
    const sort = await getJson(`${ui.url}api/runs?sort=colour`);
    expect(sort.json.diagnostics[0]).toMatchObject({ code: 'KILN8010' });
    const limit = await getJson(`${ui.url}api/runs?limit=-1`);
    expect(limit.json.diagnostics[0]).toMatchObject({ code: 'KILN8010' });
  });

  it('/api/runs/<id>: histories, nodes, artifact verdicts; an unknown run is a 404 with KILN4002', async () => {
    const { json } = await getJson(`${ui.url}api/runs/${p.runs.b.slice(0, 12)}`);
    expect(json.run.id).toBe(p.runs.b);
    expect(json.histories.accuracy.map((m: { value: number }) => m.value)).toEqual([0.75, 0.85, 0.9]);
    expect(json.run.nodes.find((n: { node: string }) => n.node === 'split').cacheHit).toBe(true);
    expect(json.artifacts).toEqual([]);
    const failed = await getJson(`${ui.url}api/runs/${p.runs.c}`);
    expect(failed.json.run).toMatchObject({ status: 'FAILED', error: 'evaluate failed: boom' });
    const none = await getJson(`${ui.url}api/runs/zzzz`);
    expect(none.status).toBe(404);
    expect(none.json.diagnostics[0].code).toBe('KILN4002');
  });

  it('/api/runs/<id>/files/<name>: the bytes a run logged, looked up by name', async () => {
    const res = await fetch(`${ui.url}api/runs/${p.runs.a}/files/notes.txt`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('trained on 30 rows');
    expect(res.headers.get('content-security-policy')).toContain('sandbox');
    const none = await getJson(`${ui.url}api/runs/${p.runs.a}/files/nope.txt`);
    expect(none.status).toBe(404);
    expect(none.json.diagnostics[0].code).toBe('KILN4030');
  });

  it('/api/compare: parameters that differ, metric deltas from the first run, histories; 2 to 10 runs', async () => {
    const { json } = await getJson(`${ui.url}api/compare?ids=${p.runs.a},${p.runs.b}`);
    expect(json.params.find((x: { key: string }) => x.key === 'threshold')).toEqual({ key: 'threshold', values: [0.5, 0.6], changed: true });
    expect(json.params.find((x: { key: string }) => x.key === 'seed').changed).toBe(false);
    const acc = json.metrics.find((m: { key: string }) => m.key === 'accuracy');
    expect(acc.values).toEqual([0.85, 0.9]);
    expect(acc.deltas[1]).toBeCloseTo(0.05);
    expect(json.runs[1].histories.loss).toHaveLength(3);
    const one = await getJson(`${ui.url}api/compare?ids=${p.runs.a}`);
    expect(one.status).toBe(400);
    expect(one.json.diagnostics[0].code).toBe('KILN8010');
  });

  it('/api/models: versions with gate results and the history of alias moves', async () => {
    const { json } = await getJson(`${ui.url}api/models`);
    const m = json.models[0];
    expect(m).toMatchObject({ name: 'scorer', aliases: { production: 1 } });
    expect(m.versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    expect(m.versions[0].gate).toEqual([{ metric: 'accuracy', rule: '>= 0.5', value: 0.9, passed: true }]);
    expect(m.aliasHistory.production.map((c: { version: number }) => c.version)).toEqual([1, 2, 1]);
  });

  it('/api/plan: the same data as kiln plan --format json, or its diagnostics', async () => {
    const { json } = await getJson(`${ui.url}api/plan?base=main`);
    const cli = runCli(['plan', '--base', 'main', '--format', 'json'], { cwd: p.root });
    expect(json.plan).toEqual(JSON.parse(cli.stdout));
    expect(json.plan.parameters).toEqual([{ key: 'threshold', old: 0.5, new: 0.6 }]);
    expect(json.plan.pipelines[0].reruns.map((r: { node: string }) => r.node)).toEqual(['score', 'evaluate']);
    const bad = await getJson(`${ui.url}api/plan?base=no-such-branch`);
    expect(bad.status).toBe(200);
    expect(bad.json.plan).toBeNull();
    expect(bad.json.diagnostics[0].code).toMatch(/^KILN70/);
  });

  it('/api/datasets/<name>/preview: the first rows; unknown datasets and types without preview are diagnostics', async () => {
    const { json } = await getJson(`${ui.url}api/datasets/measurements/preview?rows=3`);
    expect(json).toMatchObject({ dataset: 'measurements', type: 'jsonl', path: 'inputs/measurements.jsonl', truncated: true });
    expect(json.rows).toEqual([{ id: 'm0', x: 0.0947, label: 1 }, { id: 'm1', x: -0.9314, label: 0 }, { id: 'm2', x: -0.2592, label: 0 }]);
    const typo = await getJson(`${ui.url}api/datasets/measurement/preview`);
    expect(typo.status).toBe(404);
    expect(typo.json.diagnostics[0]).toMatchObject({ code: 'KILN8004' });
    expect(typo.json.diagnostics[0].message).toContain("did you mean 'measurements'?");
    const notYet = await getJson(`${ui.url}api/datasets/predictions/preview`);
    expect(notYet.json.diagnostics[0]).toMatchObject({ code: 'KILN8005', hint: 'Run the pipeline that writes it: kiln run score' });
    const metrics = await getJson(`${ui.url}api/datasets/quality/preview`);
    expect(metrics.status).toBe(422);
    expect(metrics.json.diagnostics[0].code).toBe('KILN8006');
  });

  it('is read-only: other methods are 405 with KILN8009; unknown API paths are KILN8008', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const res = await fetch(`${ui.url}api/runs`, { method });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD');
      expect(((await res.json()) as { diagnostics: Array<{ code: string }> }).diagnostics[0].code).toBe('KILN8009');
    }
    const nope = await getJson(`${ui.url}api/nope`);
    expect(nope.status).toBe(404);
    expect(nope.json.diagnostics[0].code).toBe('KILN8008');
    const head = await fetch(ui.url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-security-policy')).toMatch(/script-src 'self';/);
    expect(head.headers.get('content-security-policy')).not.toContain('unsafe-inline');
  });
});

describe('kiln ui on projects that are not all there', () => {
  it('a project with no runs: no store, empty lists, nothing created', async () => {
    const root = tempDir('kiln-ui-empty-');
    fs.cpSync(path.join(p.root, 'pipelines'), path.join(root, 'pipelines'), { recursive: true });
    fs.copyFileSync(path.join(p.root, 'kiln.yaml'), path.join(root, 'kiln.yaml'));
    fs.writeFileSync(path.join(root, 'package.json'), '{ "type": "module" }\n');
    const u = await startUi(root);
    expect((await getJson(`${u.url}api/runs`)).json).toMatchObject({ total: 0, store: false });
    expect((await getJson(`${u.url}api/models`)).json).toEqual({ models: [], store: false });
    expect((await getJson(`${u.url}api/runs/abc`)).json.diagnostics[0].code).toBe('KILN4002');
    expect(fs.existsSync(path.join(root, '.kiln'))).toBe(false);
    await u.stop();
  });

  it('a pipeline that does not compile: the diagnostics and the command that shows them', async () => {
    const root = tempDir('kiln-ui-broken-');
    fs.cpSync(path.join(p.root, 'pipelines'), path.join(root, 'pipelines'), { recursive: true });
    fs.copyFileSync(path.join(p.root, 'kiln.yaml'), path.join(root, 'kiln.yaml'));
    fs.writeFileSync(path.join(root, 'package.json'), '{ "type": "module" }\n');
    const file = path.join(root, 'pipelines/score/pipeline.yaml');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('inputs: { rows: train_rows }', 'inputs: { rows: train_rowz }'));
    const u = await startUi(root);
    const { status, json } = await getJson(`${u.url}api/project`);
    expect(status).toBe(200);
    expect(json).toMatchObject({ ok: false, graph: null, fix: 'kiln validate' });
    expect(json.diagnostics[0]).toMatchObject({ file: 'pipelines/score/pipeline.yaml', severity: 'error' });
    expect(json.diagnostics[0].message).toContain('train_rowz');
    await u.stop();
  });
});

describe('kiln ui command line', () => {
  it('a bad --port is KILN8001, exit 1', () => {
    const r = runCli(['ui', '--port', 'eighty'], { cwd: p.root });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('KILN8001');
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
  });

  it('a port in use is KILN8002, exit 1', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as net.AddressInfo).port;
    const r = runCli(['ui', '--port', String(port)], { cwd: p.root });
    blocker.close();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('KILN8002');
    expect(r.stderr).toContain('the port is in use');
  });
});
