// The bundle-time half of hermetic inference: the project's code an inference node reaches may not import file,
// process, network or VM modules nor read process.env, unless the node declares the exemption.
import { describe, expect, it } from 'vitest';
import { checkHermetic } from '../../src/artifact/hermetic.ts';
import type { NodeIR } from '../../src/ir/types.ts';
import { tempDir, writeFiles } from '../helpers/project.ts';

function node(name: string, exportName: string, allow: string[] = []): NodeIR {
  return {
    name,
    func: { module: 'pipelines/p/nodes.ts', export: exportName },
    inputForm: 'none',
    inputs: [],
    outputForm: 'none',
    outputs: [],
    tags: [],
    namespace: null,
    declaredIn: 'pipelines/p/pipeline.yaml',
    inferenceAllow: allow,
  };
}

/** Each escape as `code file:line what`, for a project whose inference node is nodes.ts#score. */
async function escapes(nodesTs: string, allow: string[] = [], extra: Record<string, string> = {}): Promise<string[]> {
  const root = tempDir('kiln-hermetic-');
  writeFiles(root, { 'package.json': '{"type":"module"}\n', 'pipelines/p/nodes.ts': nodesTs, ...extra });
  const found = await checkHermetic(root, 'm', [node('score', 'score', allow)]);
  return found.map((d) => `${d.code} ${d.location?.file}:${d.location?.line} ${/imports '([^']+)'|reads (process\.env)/.exec(d.message)?.slice(1).find(Boolean)}`);
}

describe('hermetic inference at bundle time', () => {
  const cases: Array<{ name: string; code: string; want: string[] }> = [
    { name: 'import of fs', code: "import { readFileSync } from 'fs';\nexport function score() { return readFileSync('x', 'utf8'); }\n", want: ['KILN6012 pipelines/p/nodes.ts:1 fs'] },
    { name: 'import of node:fs/promises', code: "import fs from 'node:fs/promises';\nexport async function score() { return fs.readFile('x'); }\n", want: ['KILN6012 pipelines/p/nodes.ts:1 node:fs/promises'] },
    { name: 'require() of child_process', code: "declare const require: (m: string) => { execSync(c: string): string };\nexport function score() {\n  return require('child_process').execSync('date');\n}\n", want: ['KILN6012 pipelines/p/nodes.ts:3 child_process'] },
    { name: 'dynamic import() of node:http', code: "export async function score() {\n  const http = await import('node:http');\n  return http.STATUS_CODES;\n}\n", want: ['KILN6012 pipelines/p/nodes.ts:2 node:http'] },
    { name: 'net, dns, tls, vm, worker_threads, cluster, dgram, https, http2', code: "import * as a from 'net';\nimport * as b from 'dns';\nimport * as c from 'tls';\nimport * as d from 'vm';\nimport * as e from 'worker_threads';\nimport * as f from 'cluster';\nimport * as g from 'dgram';\nimport * as h from 'https';\nimport * as i from 'node:http2';\nexport function score() { return [a, b, c, d, e, f, g, h, i].length; }\n", want: ['net', 'dns', 'tls', 'vm', 'worker_threads', 'cluster', 'dgram', 'https', 'node:http2'].map((m, i) => `KILN6012 pipelines/p/nodes.ts:${i + 1} ${m}`) },
    { name: 'process.env', code: "export function score(x: number) {\n  return x * Number(process.env.SCALE ?? '1');\n}\n", want: ['KILN6013 pipelines/p/nodes.ts:2 process.env'] },
    { name: 'a helper module the node imports', code: "import { offset } from './helper.ts';\nexport function score(x: number) { return x + offset(); }\n", want: ['KILN6012 pipelines/p/helper.ts:1 node:fs'] },
    { name: 'code only a training node of the same module uses', code: "import { readFileSync } from 'node:fs';\nexport function ingest() { return readFileSync('data.csv', 'utf8'); }\nexport function score(x: number) { return x + 1; }\n", want: [] },
    { name: "kiln's own modules (kiln/ml) and packages from node_modules", code: "import { createRandom } from 'kiln-ml/ml';\nimport pad from 'leftpad';\nexport function score(x: number) { return pad(String(createRandom(1).next() + x)); }\n", want: [] },
  ];
  for (const c of cases) {
    it(`finds ${c.name}`, async () => {
      const extra = {
        'pipelines/p/helper.ts': "import { readFileSync } from 'node:fs';\nexport function offset() { return Number(readFileSync('offset.txt', 'utf8')); }\n",
        'node_modules/leftpad/package.json': '{"name":"leftpad","type":"module","main":"index.js"}\n',
        'node_modules/leftpad/index.js': "import fs from 'node:fs';\nexport default (s) => (fs.existsSync('/') ? s.padStart(9) : s);\n",
      };
      expect(await escapes(c.code, [], extra)).toEqual(c.want);
    });
  }

  it('lets a node declare its exemptions (inference.allow), one by one', async () => {
    const code = "import { readFileSync } from 'node:fs';\nexport function score() { return readFileSync(process.env.FILE ?? 'x', 'utf8'); }\n";
    expect(await escapes(code)).toEqual(['KILN6012 pipelines/p/nodes.ts:1 node:fs', 'KILN6013 pipelines/p/nodes.ts:2 process.env']);
    expect(await escapes(code, ['fs'])).toEqual(['KILN6013 pipelines/p/nodes.ts:2 process.env']);
    expect(await escapes(code, ['fs', 'process.env'])).toEqual([]);
  });

  it('names the node, the model, the module, the line and the YAML that can exempt it', async () => {
    const root = tempDir('kiln-hermetic-');
    writeFiles(root, { 'package.json': '{"type":"module"}\n', 'pipelines/p/nodes.ts': "import { readFileSync } from 'node:fs';\nexport function score() { return readFileSync('x', 'utf8'); }\n" });
    const [d] = await checkHermetic(root, 'scorer', [node('score', 'score')]);
    expect(d.message).toBe("node 'score' of model 'scorer' imports 'node:fs' on the inference path (pipelines/p/nodes.ts:1)");
    expect(d.hint).toContain("declare it on node 'score' in pipelines/p/pipeline.yaml: `inference: { allow: [fs] }`");
    expect(d.location).toMatchObject({ file: 'pipelines/p/nodes.ts', line: 1, column: 30 });
  });
});
