// What a hostile project or request cannot make kiln ui do: read files outside the project (.., absolute paths,
// symbolic links, encoded slashes), answer another site's page (DNS rebinding), or serve anything but its own assets.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { getJson, startUi, tempDir, type UiProcess } from './support.ts';

let root: string;
let outside: string;
let ui: UiProcess;

/** A raw request: fetch() would normalise `..` and encoded dots away before they reach the server. */
function raw(url: string, pathAndQuery: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: pathAndQuery, headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  const base = tempDir('kiln-ui-sec-');
  root = path.join(base, 'project');
  outside = path.join(base, 'shared');
  fs.mkdirSync(outside, { recursive: true });
  fs.writeFileSync(path.join(outside, 'secret.jsonl'), '{"secret":"TOP-SECRET-CONTENT"}\n');
  fs.mkdirSync(path.join(root, 'pipelines/p'), { recursive: true });
  fs.mkdirSync(path.join(root, 'data'), { recursive: true });
  fs.writeFileSync(path.join(root, 'package.json'), '{ "type": "module" }\n');
  // paths.allow lets datasets use a shared folder; kiln ui still previews only files inside the project.
  fs.writeFileSync(path.join(root, 'kiln.yaml'), 'name: sec\npaths:\n  allow: [../shared]\n');
  fs.writeFileSync(path.join(root, 'data/rows.jsonl'), '{"a":1}\n');
  fs.symlinkSync(path.join(outside, 'secret.jsonl'), path.join(root, 'data/link.jsonl'));
  fs.writeFileSync(
    path.join(root, 'pipelines/catalog.yaml'),
    ['rows: { type: jsonl, path: data/rows.jsonl }', 'up: { type: jsonl, path: ../shared/secret.jsonl }', `absolute: { type: jsonl, path: ${JSON.stringify(path.join(outside, 'secret.jsonl'))} }`, 'linked: { type: jsonl, path: data/link.jsonl }', 'out: { type: json, path: data/out.json }', ''].join('\n'),
  );
  fs.writeFileSync(path.join(root, 'pipelines/parameters.yaml'), 'k: 1\n');
  fs.writeFileSync(path.join(root, 'pipelines/p/nodes.ts'), 'export function f(a: { rows: unknown[]; up: unknown[]; absolute: unknown[]; linked: unknown[] }): number {\n  return a.rows.length;\n}\n');
  fs.writeFileSync(path.join(root, 'pipelines/p/pipeline.yaml'), 'pipeline: p\nnodes:\n  - name: f\n    run: ./nodes.ts#f\n    inputs: { rows: rows, up: up, absolute: absolute, linked: linked }\n    outputs: out\n');
  ui = await startUi(root);
});

describe('kiln ui dataset previews stay inside the project', () => {
  it('reads a dataset inside the project', async () => {
    const { status, json } = await getJson(`${ui.url}api/datasets/rows/preview`);
    expect(status).toBe(200);
    expect(json.rows).toEqual([{ a: 1 }]);
  });

  for (const [dataset, how] of [
    ['up', 'a path with ..'],
    ['absolute', 'an absolute path'],
    ['linked', 'a symbolic link inside the project to a file outside it'],
  ] as const) {
    it(`refuses ${how} with KILN8003`, async () => {
      const { status, json } = await getJson(`${ui.url}api/datasets/${dataset}/preview`);
      expect(status).toBe(403);
      expect(json.diagnostics[0].code).toBe('KILN8003');
      expect(JSON.stringify(json)).not.toContain('TOP-SECRET-CONTENT');
    });
  }

  it('takes encoded slashes and dots in a dataset name as part of the name, never as a path', async () => {
    for (const p of ['/api/datasets/..%2F..%2Fshared%2Fsecret.jsonl/preview', '/api/datasets/%2e%2e/preview', '/api/datasets/..%5c..%5cshared/preview']) {
      const r = await raw(ui.url, p);
      expect(r.status, p).toBe(404);
      // Either a dataset of that odd name (KILN8004), or, where the URL parser resolved %2e%2e, no such API page.
      expect(JSON.parse(r.body).diagnostics[0].code).toMatch(/^KILN800[48]$/);
      expect(r.body).not.toContain('TOP-SECRET-CONTENT');
    }
  });

  it('serves its own assets only, whatever the path says', async () => {
    for (const p of ['/../kiln.yaml', '/..%2fkiln.yaml', '/%2e%2e/%2e%2e/etc/passwd', '/app.js/../../kiln.yaml', '/lib/ui/app/app.js', '/ui/server.js']) {
      const r = await raw(ui.url, p);
      expect(r.status, p).toBe(404);
      expect(r.body).not.toContain('name: sec');
    }
    expect((await raw(ui.url, '/app.js')).status).toBe(200);
  });

  it('run files are looked up by name: an encoded path is a name no run has', async () => {
    // No store in this project: any run is unknown, and nothing is read from disk.
    const r = await raw(ui.url, '/api/runs/x/files/..%2F..%2Fkiln.yaml');
    expect(r.status).toBe(404);
    expect(r.body).not.toContain('name: sec');
  });

  it('answers only requests addressed to 127.0.0.1 or localhost (DNS rebinding)', async () => {
    const r = await raw(ui.url, '/api/project', { Host: 'evil.example:80' });
    expect(r.status).toBe(421);
    expect((await raw(ui.url, '/api/project', { Host: `localhost:${new URL(ui.url).port}` })).status).toBe(200);
  });
});
