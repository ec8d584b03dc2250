// kiln ui in a real browser (Debian's Chromium through playwright-core) on a project with a real run and recorded
// ones: each view opens and draws, a node's panel shows the inferred types, runs filter, two runs compare with
// charts, the plan of a branch that changed a parameter marks the re-run nodes, markup from YAML and run tags stays
// text, and the static export opens from file://. Screenshots of each view go to test-results/ui/.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { runCli } from '../helpers/cli.ts';
import { launchChromium, testOutputDir, type Browser } from '../helpers/chromium.ts';
import { linkKiln } from '../gitops/support.ts';
import { writeLayeredProject } from '../helpers/layered-project.ts';
import { openTracking } from '../../src/tracking/index.ts';
import { scorerProject, startUi, tempDir, XSS, type ScorerProject, type UiProcess } from '../ui/support.ts';

let p: ScorerProject;
let ui: UiProcess;
let browser: Browser;
let page: Page;
let realRun: string;
const shots = testOutputDir('ui');
const pageErrors: string[] = [];

beforeAll(async () => {
  p = await scorerProject('kiln-ui-browser-');
  linkKiln(p.root);
  // A real run on the branch: node timings, snapshots, an artifact with its parity verdict, and generated/ (types).
  const run = runCli(['run', 'score'], { cwd: p.root, timeoutMs: 240_000 });
  expect(run.code, run.stderr).toBe(0);
  realRun = /run (\w+) finished/.exec(run.stdout + run.stderr)![1];
  ui = await startUi(p.root);
  browser = await launchChromium();
  page = await browser.context.newPage();
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('dialog', (d) => {
    pageErrors.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
});

afterAll(async () => {
  await browser?.close();
});

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
}

describe('kiln ui in Chromium', () => {
  it('pipeline graph: a node panel with the inferred TypeScript types, the inference subgraph highlighted', async () => {
    await page.goto(`${ui.url}#/graph`);
    await page.locator('svg.graph .vertex').first().waitFor();
    expect(await page.locator('svg.graph .vertex.node').count()).toBe(4);
    expect(await page.locator('svg.graph .vertex.dataset').count()).toBe(6);
    expect(await page.locator('.vertex.node.inference').evaluateAll((e) => e.map((x) => x.getAttribute('data-id')))).toEqual(['n:score']);
    await page.locator('[data-id="n:score"]').click();
    const panel = page.locator('.side-panel');
    await panel.locator('table.inputs').waitFor();
    await expect.poll(() => panel.locator('.ts-type').allInnerTexts()).toEqual(['Row[]', 'Stats', 'number', 'Prediction[]']);
    expect(await panel.innerText()).toContain('pipelines/score/nodes.ts:');
    await expect.poll(() => panel.locator('.last-run').innerText()).toMatch(/FINISHED/);
    await shot('graph-node');
    // Keyboard: a dataset is reachable with Tab and opens with Enter.
    await page.locator('[data-id="d:measurements"]').focus();
    await page.keyboard.press('Enter');
    await panel.locator('table.preview').waitFor();
    expect(await panel.locator('table.preview tbody tr').count()).toBe(20);
    await shot('graph-dataset');
  });

  it('markup from YAML and run tags shows as text and never runs', async () => {
    // The description of `measurements` is in the panel opened above.
    expect(await page.locator('.side-panel').innerText()).toContain(XSS);
    expect(await page.locator('.side-panel img').count()).toBe(0);
    await page.goto(`${ui.url}#/run/${p.runs.a}`);
    await page.locator('.run-detail').waitFor();
    expect(await page.locator('main').innerText()).toContain(XSS);
    expect(await page.locator('main img').count()).toBe(0);
    expect(await page.title()).toBe('kiln ui');
    expect(pageErrors).toEqual([]);
  });

  it('runs: the filter language, metric columns, and a selection to compare with overlaid charts', async () => {
    await page.goto(`${ui.url}#/runs`);
    await page.locator('table.runs tbody tr').first().waitFor();
    expect(await page.locator('table.runs tbody tr').count()).toBe(4);
    await page.fill('#runs-filter', 'metrics.accuracy > 0.88');
    await page.click('form.controls button[type=submit]');
    await expect.poll(() => page.locator('table.runs tbody tr').count()).toBe(2);
    await page.getByLabel('metrics.accuracy').check();
    await expect.poll(() => page.locator('table.runs thead th').allInnerTexts()).toContain('accuracy');
    await shot('runs');
    await page.fill('#runs-filter', 'metrix.accuracy > 1');
    await page.click('form.controls button[type=submit]');
    await expect.poll(() => page.locator('.problems').innerText()).toMatch(/KILN400[56]/);
    await page.fill('#runs-filter', '');
    await page.click('form.controls button[type=submit]');
    await page.locator(`tr[data-run="${p.runs.a}"] input[type=checkbox]`).check();
    await page.locator(`tr[data-run="${p.runs.b}"] input[type=checkbox]`).check();
    await page.getByRole('button', { name: 'Compare selected (2)' }).click();
    await page.locator('.compare figure.chart canvas').first().waitFor();
    // accuracy, loss and val_loss have histories: one chart each, a series per run.
    expect(await page.locator('.compare figure.chart').evaluateAll((f) => f.map((x) => [x.querySelector('figcaption')?.textContent, x.getAttribute('data-series')]))).toEqual([
      ['accuracy', '2'],
      ['loss', '2'],
      ['val_loss', '2'],
    ]);
    // The callback runs in the page; this file is type-checked without the DOM's types, hence the shape spelled out.
    const painted = await page.locator('.compare figure.chart canvas').first().evaluate((c) => {
      const canvas = c as unknown as { width: number; height: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };
      const d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
      return n;
    });
    expect(painted).toBeGreaterThan(500);
    expect(await page.locator('.compare svg.scatter circle.point').count()).toBe(2);
    expect(await page.locator('.compare').innerText()).toContain('threshold');
    await shot('compare');
  });

  it('run detail: training and validation curves in one chart, the node timeline, the artifact parity verdict', async () => {
    await page.goto(`${ui.url}#/run/${p.runs.b}`);
    await page.locator('.run-detail figure.chart canvas').first().waitFor();
    // loss and val_loss share a chart.
    expect(await page.locator('.run-detail figure.chart').evaluateAll((f) => f.map((x) => x.getAttribute('data-series')))).toEqual(['1', '2']);
    expect(await page.locator('.timeline .exec').count()).toBe(4);
    expect(await page.locator('.timeline .exec.skipped').count()).toBe(1);
    await page.goto(`${ui.url}#/run/${realRun}`);
    await page.locator('.run-detail').waitFor();
    await expect.poll(() => page.locator('.verdict').first().innerText()).toBe('passed');
    await shot('run-detail');
    await page.goto(`${ui.url}#/run/${p.runs.c}`);
    await page.locator('.run-detail pre.error').waitFor();
    expect(await page.locator('main').innerText()).toContain('kiln run score');
  });

  it('models: versions, gate results and the alias history with the rollback', async () => {
    await page.goto(`${ui.url}#/models`);
    await page.locator('article.model').waitFor();
    const text = await page.locator('main').innerText();
    expect(text).toContain('production → v1');
    expect(text).toMatch(/rollback/);
    expect(await page.locator('.gate.passed').count()).toBe(2);
    await shot('models');
  });

  it('plan: the branch changed a parameter, and the nodes that will re-run are marked on the graph', async () => {
    await page.goto(`${ui.url}#/plan`);
    await page.locator('.plan-view svg.graph').waitFor();
    expect(await page.locator('.plan-view .vertex.rerun').evaluateAll((e) => e.map((x) => x.getAttribute('data-id')))).toEqual(['n:score', 'n:evaluate']);
    expect(await page.locator('.plan-view').innerText()).toContain('parameters changed: threshold');
    await shot('plan');
  });

  it('a pipeline that does not compile shows its diagnostics and the command, not a blank page', async () => {
    const file = path.join(p.root, 'pipelines/score/pipeline.yaml');
    const before = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, before.replace('inputs: { rows: train_rows }', 'inputs: { rows: train_rowz }'));
    try {
      await page.goto(`${ui.url}#/graph`);
      await page.locator('.problems').waitFor();
      const text = await page.locator('.problems').innerText();
      expect(text).toContain('train_rowz');
      expect(text).toContain('kiln validate');
      await shot('broken');
    } finally {
      fs.writeFileSync(file, before);
    }
  });

  it('dark theme and keyboard shortcuts', async () => {
    await page.goto(`${ui.url}#/graph`);
    // The page is already at #/graph (the broken project's view): only a reload draws it again.
    await page.reload();
    await page.locator('svg.graph').waitFor();
    await page.getByRole('button', { name: 'switch light and dark theme' }).click();
    expect(await page.locator('html').getAttribute('data-theme')).toBe('dark');
    await page.keyboard.press('r');
    await page.locator('table.runs').waitFor();
    await shot('runs-dark');
    await page.getByRole('button', { name: 'switch light and dark theme' }).click();
  });

  it('live: a run another process is writing shows its running node, then its end, without a reload', async () => {
    const t = openTracking(path.join(p.root, '.kiln'));
    try {
      const run = await t.runs.createRun({ pipeline: 'score', command: ['kiln', 'run'], git: null, versions: { kiln: '0.2.0', node: process.version, tfjs: null }, backend: null });
      const split = await t.runs.startNode(run.id, 'split', { fingerprint: null });
      await t.runs.finishNode(split, { status: 'FINISHED' });
      const fit = await t.runs.startNode(run.id, 'fit', { fingerprint: null });
      await page.goto(`${ui.url}#/runs`);
      await page.locator('.live-indicator a').waitFor();
      await page.locator('.live-indicator a').click();
      await expect.poll(() => page.locator('.run-detail .live').innerText()).toContain('1 node finished, running fit');
      await shot('run-live');
      await t.runs.logMetrics(run.id, { accuracy: 0.5 }, { step: 0 });
      await t.runs.logMetrics(run.id, { accuracy: 0.7 }, { step: 1 });
      await t.runs.finishNode(fit, { status: 'FINISHED' });
      await t.runs.finishRun(run.id, { status: 'FINISHED' });
      await expect.poll(() => page.locator('.run-detail h1').innerText(), { timeout: 15_000 }).toContain('FINISHED');
      expect(await page.locator('.run-detail figure.chart').count()).toBe(1);
      await expect.poll(() => page.locator('.live-indicator').innerText(), { timeout: 15_000 }).toBe('');
    } finally {
      t.close();
    }
  });

  it('a pipeline of 400 nodes opens as an overview of its namespaces, and a click opens one', async () => {
    const root = tempDir('kiln-ui-large-');
    writeLayeredProject(root, 400);
    const large = await startUi(root);
    try {
      await page.goto(`${large.url}#/graph`);
      await page.locator('svg.graph .vertex').first().waitFor();
      expect(await page.locator('svg.graph .vertex.namespace').count()).toBe(8);
      expect(await page.locator('svg.graph .vertex.dataset').count()).toBe(0);
      await page.locator('[data-id="ns:ns3"]').click();
      await expect.poll(() => page.locator('svg.graph .vertex.node').count()).toBe(50);
      expect(await page.locator('svg.graph .vertex.namespace').count()).toBe(7);
      await shot('graph-large');
    } finally {
      await large.stop();
    }
  });

  it('the static export opens from file:// with the same views', async () => {
    const out = path.join(tempDir('kiln-ui-site-'), 'site');
    expect(runCli(['ui', 'build', '--out', out, '--base', 'main'], { cwd: p.root }).code).toBe(0);
    const url = pathToFileURL(path.join(out, 'index.html')).href;
    await page.goto(`${url}#/graph`);
    await page.locator('svg.graph .vertex').first().waitFor();
    await page.goto(`${url}#/runs`);
    await expect.poll(() => page.locator('table.runs tbody tr').count()).toBe(5);
    await page.goto(`${url}#/compare/${p.runs.a},${p.runs.b}`);
    await page.locator('.compare figure.chart canvas').first().waitFor();
    await page.goto(`${url}#/plan`);
    await page.locator('.plan-view .vertex.rerun').first().waitFor();
    await shot('static-plan');
    expect(pageErrors).toEqual([]);
  });
});
