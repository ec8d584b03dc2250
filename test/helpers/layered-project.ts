// A synthetic project of one wide pipeline, for kiln ui's large-graph test and bench/ui.ts: `n` nodes in layers of
// 25 and namespaces of 50, each node reading the outputs of two nodes of the layer before (no edge skips a layer).
import fs from 'node:fs';
import path from 'node:path';

export function writeLayeredProject(root: string, n: number): void {
  fs.mkdirSync(path.join(root, 'pipelines/big'), { recursive: true });
  fs.writeFileSync(path.join(root, 'package.json'), '{ "type": "module" }\n');
  fs.writeFileSync(path.join(root, 'kiln.yaml'), 'name: bench\n');
  fs.writeFileSync(path.join(root, 'pipelines/catalog.yaml'), 'seed_data: { type: json, path: data/seed.json }\n');
  fs.writeFileSync(path.join(root, 'pipelines/parameters.yaml'), 'k: 1\n');
  fs.writeFileSync(path.join(root, 'pipelines/big/nodes.ts'), 'export function step(a: { x: number[]; y?: number[] }): number[] {\n  return [...a.x, ...(a.y ?? [])];\n}\n');
  const W = 25;
  const nodes: string[] = [];
  for (let i = 0; i < n; i++) {
    const x = i < W ? 'seed_data' : `d${i - W}`;
    const y = i >= W ? `, y: d${i - W - (i % W === 0 ? -1 : 1)}` : '';
    nodes.push(`  - { name: n${i}, namespace: ns${Math.floor(i / 50)}, run: ./nodes.ts#step, inputs: { x: ${x}${y} }, outputs: d${i} }`);
  }
  fs.writeFileSync(path.join(root, 'pipelines/big/pipeline.yaml'), `pipeline: big\nnodes:\n${nodes.join('\n')}\n`);
}
