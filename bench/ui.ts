// Benchmark of kiln ui in Chromium: time to first render of the flagship's pipeline graph and of a synthetic
// 1,000-node pipeline (the layout's own time separately, as the page measures it; a pipeline over 300 nodes opens with
// its namespaces collapsed, so opening one namespace is timed too), and time to the first row of a
// 10,000-run table. The baselines in the same run are a 10-node pipeline and a 100-run table; the bundle's size is
// printed too.
//
//   npx tsx bench/ui.ts [--nodes 1000] [--runs 10000]
//
// Prints JSON. Needs /usr/bin/chromium (or KILN_CHROMIUM).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { buildKiln } from '../scripts/build.ts';
import { launchChromium } from '../test/helpers/chromium.ts';
import { writeLayeredProject } from '../test/helpers/layered-project.ts';
import { openTracking } from '../src/tracking/index.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const arg = (name: string, dflt: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);

function syntheticProject(n: number): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `kiln-ui-bench-${n}-`));
  writeLayeredProject(root, n);
  return root;
}

async function fillRuns(root: string, count: number): Promise<void> {
  const t = openTracking(path.join(root, '.kiln'));
  try {
    for (let i = 0; i < count; i++) {
      const r = await t.runs.createRun({ pipeline: 'big', command: ['kiln', 'run', 'big'], git: null, versions: { kiln: '0.2.0', node: process.version, tfjs: null }, backend: null, params: { seed: i, lr: 0.001 * (i % 10) }, startTime: 1_700_000_000_000 + i * 1000 });
      await t.runs.logMetrics(r.id, { accuracy: (i % 100) / 100, loss: 1 - (i % 100) / 100 });
      await t.runs.finishRun(r.id, { status: 'FINISHED', endTime: 1_700_000_000_000 + i * 1000 + 500 });
    }
  } finally {
    t.close();
  }
}

async function main(): Promise<void> {
  await buildKiln();
  const { startUiServer } = await import('../src/ui/server.ts');
  const { loadAssets } = await import('../src/ui/assets.ts');
  const { projectStores } = await import('../src/ui/stores.ts');
  const browser = await launchChromium();
  const page = await browser.context.newPage();
  const serve = async (root: string) => {
    const stores = projectStores(root);
    const server = await startUiServer({ root, stores: () => stores.stores() }, loadAssets(), { host: '127.0.0.1', port: 0 });
    return { url: server.url, close: async () => (await server.close(), stores.close()) };
  };
  /** Navigation to the first drawn vertex (the API's answer, the layout and the SVG), and the layout's own time. */
  const graphTime = async (root: string) => {
    const s = await serve(root);
    // The server's first analysis of a project (what kiln validate does, cold) is timed apart from the page.
    const tc = performance.now();
    await (await fetch(`${s.url}api/project`)).json();
    const projectApiColdMs = Math.round(performance.now() - tc);
    await page.goto('about:blank');
    const t0 = performance.now();
    await page.goto(`${s.url}#/graph`);
    await page.locator('svg.graph .vertex').first().waitFor({ timeout: 120_000 });
    const firstRenderMs = performance.now() - t0;
    const layoutMs = Number(await page.locator('svg.graph').getAttribute('data-layout-ms'));
    const vertices = Number(await page.locator('svg.graph').getAttribute('data-vertices'));
    // A large pipeline opens collapsed: opening one namespace (a click) lays the graph out again.
    let expandNamespace: { ms: number; layoutMs: number; vertices: number } | null = null;
    const ns = page.locator('svg.graph .vertex.namespace').first();
    if (await ns.count()) {
      const t1 = performance.now();
      await ns.click();
      await page.locator(`svg.graph:not([data-vertices="${vertices}"])`).waitFor({ timeout: 120_000 });
      expandNamespace = { ms: Math.round(performance.now() - t1), layoutMs: Math.round(Number(await page.locator('svg.graph').getAttribute('data-layout-ms'))), vertices: Number(await page.locator('svg.graph').getAttribute('data-vertices')) };
    }
    await s.close();
    return { projectApiColdMs, firstRenderMs: Math.round(firstRenderMs), layoutMs: Math.round(layoutMs), vertices, expandNamespace };
  };
  const tableTime = async (root: string) => {
    const s = await serve(root);
    await page.goto('about:blank');
    const t0 = performance.now();
    await page.goto(`${s.url}#/runs`);
    await page.locator('table.runs tbody tr').first().waitFor({ timeout: 120_000 });
    const firstRowMs = performance.now() - t0;
    const total = await page.locator('.pager').innerText();
    await s.close();
    return { firstRowMs: Math.round(firstRowMs), pager: total.trim() };
  };
  const nodes = arg('--nodes', 1000);
  const runs = arg('--runs', 10000);
  const small = syntheticProject(10);
  const big = syntheticProject(nodes);
  await fillRuns(small, 100);
  await fillRuns(big, runs);
  const app = fs.readFileSync(path.join(repoRoot, 'lib/ui/app/app.js'));
  // A first page load compiles the app in a fresh browser: not what any view costs afterwards.
  await graphTime(small);
  const result = {
    bundle: { appJsBytes: app.length, appJsGzipBytes: gzipSync(app).length, appCssBytes: fs.statSync(path.join(repoRoot, 'lib/ui/app/app.css')).size },
    flagshipGraph: await graphTime(repoRoot),
    baselineGraph10: await graphTime(small),
    [`syntheticGraph${nodes}`]: await graphTime(big),
    baselineTable100: await tableTime(small),
    [`table${runs}`]: await tableTime(big),
    chromium: await browser.context.browser()?.version() ?? 'chromium',
    cpus: os.cpus().length,
  };
  await browser.close();
  fs.rmSync(small, { recursive: true, force: true });
  fs.rmSync(big, { recursive: true, force: true });
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}

await main();
