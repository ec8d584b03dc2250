// `kiln emit argo` and `kiln emit dockerfile`: every manifest validates against Argo's published JSON Schema
// (../shared/schemas/argo-workflows.schema.json, draft 2020-12), the flagship's is a golden file, and what came from
// YAML or the command line reaches the manifest as data, never as YAML structure or an Argo expression.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { ValidateFunction } from 'ajv';
import { runMain } from '../helpers/cli.ts';
import { makeProject, repoRoot } from '../helpers/project.ts';
import { yamlText } from '../../src/emit/yaml-text.ts';

const require = createRequire(import.meta.url);
const update = process.env.UPDATE_FIXTURES === '1';
const golden = path.join(repoRoot, 'test', 'gitops', 'golden', 'spam.argo.yaml');

let validators: { Workflow: ValidateFunction; WorkflowTemplate: ValidateFunction } | undefined;
function argoSchema(kind: 'Workflow' | 'WorkflowTemplate'): ValidateFunction {
  if (!validators) {
    const Ajv2020 = (require('ajv/dist/2020.js') as { default: typeof import('ajv').Ajv }).default;
    const addFormats = require('ajv-formats') as (a: unknown) => void;
    // strict off: the schema is Argo's, with its own keywords and int32/int64 formats ajv does not know.
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema(JSON.parse(fs.readFileSync(path.join(repoRoot, '..', 'shared', 'schemas', 'argo-workflows.schema.json'), 'utf8')), 'argo');
    validators = {
      Workflow: ajv.getSchema('argo#/definitions/io.argoproj.workflow.v1alpha1.Workflow')!,
      WorkflowTemplate: ajv.getSchema('argo#/definitions/io.argoproj.workflow.v1alpha1.WorkflowTemplate')!,
    };
  }
  return validators[kind];
}

interface Manifest {
  kind: string;
  metadata: Record<string, unknown>;
  spec: {
    arguments?: { parameters: Array<{ name: string; value: string }> };
    templates: Array<{ name: string; dag?: { tasks: Array<{ name: string; dependencies?: string[] }> }; container?: { args: string[]; env?: unknown[]; resources?: unknown }; retryStrategy?: unknown; activeDeadlineSeconds?: string }>;
    [k: string]: unknown;
  };
}

/** Emits, checks the exit code, validates against Argo's schema, and returns the text and the parsed manifest. */
async function emit(root: string, args: string[], kind: 'Workflow' | 'WorkflowTemplate' = 'Workflow'): Promise<{ text: string; manifest: Manifest }> {
  const r = await runMain(['emit', 'argo', '--project', root, ...args], { cwd: root });
  expect(r.code, r.stderr).toBe(0);
  const manifest = parse(r.stdout) as Manifest;
  const validate = argoSchema(kind);
  expect(validate(manifest), JSON.stringify(validate.errors?.slice(0, 3), null, 1)).toBe(true);
  return { text: r.stdout, manifest };
}

const tasksOf = (m: Manifest) => m.spec.templates.find((t) => t.dag)!.dag!.tasks;
const templateOf = (m: Manifest, name: string) => m.spec.templates.find((t) => t.name === name)!;

const NODES_TS = `export function step(x: number[]): number[] { return x.map((v) => v + 1); }\nexport function first(): number[] { return [1, 2, 3]; }\n`;

/** A project with one pipeline of the given nodes (YAML list items) and kiln.yaml's extra lines. */
function project(nodes: string, kilnYaml = ''): string {
  return makeProject({
    'kiln.yaml': `name: emit-test\n${kilnYaml}`,
    'pipelines/catalog.yaml': 'out: { type: json, path: data/out.json }\n',
    'pipelines/parameters.yaml': 'scale: 2\nlabel: plain\n',
    'pipelines/p/pipeline.yaml': `pipeline: p\nnodes:\n${nodes}`,
    'pipelines/p/nodes.ts': NODES_TS,
  });
}

describe('kiln emit argo', () => {
  it("emits the flagship as a Workflow that Argo's schema accepts, equal to the golden file", async () => {
    const { text, manifest } = await emit(repoRoot, ['--image', 'ghcr.io/acme/spam-filter:1.0.0']);
    if (update) fs.writeFileSync(golden, text);
    expect(text).toBe(fs.readFileSync(golden, 'utf8'));
    const names = tasksOf(manifest).map((t) => t.name);
    expect(names.at(-1)).toBe('kiln-finish');
    expect(manifest.spec.onExit).toBe('kiln-exit');
    // One task per node, each running only its node in the shared run.
    expect(templateOf(manifest, 'train').container!.args).toEqual(['run', 'spam', '--run-id', '{{workflow.uid}}', '--task', 'train']);
    expect(templateOf(manifest, 'kiln-exit').container!.args).toContain('--finish={{workflow.status}}');
  });

  it('emits a filtered selection with its filters and --params as workflow parameters; and a WorkflowTemplate', async () => {
    const { manifest } = await emit(repoRoot, ['--image', 'registry.local:5000/spam@sha256:' + 'a'.repeat(64), '--to-nodes', 'train', '--params', 'train.epochs=2']);
    expect(tasksOf(manifest).map((t) => t.name)).toEqual(['ingest', 'split', 'fit-vocabulary', 'featurize-train', 'train', 'kiln-finish']);
    expect(manifest.spec.arguments!.parameters).toEqual([{ name: 'train-epochs', value: '2', description: '--params train.epochs' }]);
    expect(templateOf(manifest, 'train').container!.args).toEqual(['run', 'spam', '--to-nodes', 'train', '--run-id', '{{workflow.uid}}', '--task', 'train', '--params', 'train.epochs={{workflow.parameters.train-epochs}}']);
    const out = path.join(makeProject({}), 'spam.argo.yaml');
    const written = await runMain(['emit', 'argo', '--project', repoRoot, '--image', 'registry.local:5000/spam@sha256:' + 'a'.repeat(64), '--to-nodes', 'train', '--params', 'train.epochs=2', '--out', out], { cwd: repoRoot });
    expect(written.code).toBe(0);
    expect(written.stdout).toBe('');
    expect(parse(fs.readFileSync(out, 'utf8'))).toEqual(manifest);
    const t = await emit(repoRoot, ['--image', 'spam:1', '--tags', 'training', '--template'], 'WorkflowTemplate');
    expect(t.manifest.kind).toBe('WorkflowTemplate');
    expect(t.manifest.metadata.name).toBe('spam-filter-spam');
  });

  it('maps resources, retries, timeouts, pod groups and the argo section of kiln.yaml', async () => {
    const root = project(
      [
        '  - { name: load, run: ./nodes.ts#first, outputs: a, pod: prep, resources: { cpu: 500m, memory: 1Gi } }',
        '  - { name: widen, run: ./nodes.ts#step, inputs: a, outputs: b, pod: prep, resources: { cpu: "2", memory: 512Mi }, retries: 1, timeout: 10m }',
        '  - { name: fit, run: ./nodes.ts#step, inputs: b, outputs: out, resources: { gpu: 1, memory: 8Gi }, retries: 3, timeout: 1h30m }',
        '',
      ].join('\n'),
      'argo:\n  serviceAccountName: kiln-runner\n  secret: kiln-team\n  imagePullSecrets: [ghcr-pull]\n  parallelism: 4\n  nodeSelector: { pool: gpu, kubernetes.io/arch: amd64 }\n  tolerations: [{ key: nvidia.com/gpu, operator: Exists, effect: NoSchedule }]\n',
    );
    const { manifest } = await emit(root, ['--image', 'ghcr.io/acme/emit:2']);
    expect(tasksOf(manifest)).toEqual([{ name: 'prep', template: 'prep' }, { name: 'fit', template: 'fit', dependencies: ['prep'] }, { name: 'kiln-finish', template: 'kiln-finish', dependencies: ['fit'] }]);
    const prep = templateOf(manifest, 'prep');
    expect(prep.container!.args).toContain('load,widen');
    // The group asks for the most either node asks for; a deadline only when every node of it has a timeout.
    expect(prep.container!.resources).toEqual({ requests: { cpu: '2', memory: '1Gi' }, limits: { memory: '1Gi' } });
    expect(prep.retryStrategy).toEqual({ limit: '1', retryPolicy: 'Always' });
    expect(prep.activeDeadlineSeconds).toBeUndefined();
    const fit = templateOf(manifest, 'fit');
    expect(fit.container!.resources).toEqual({ requests: { memory: '8Gi', 'nvidia.com/gpu': '1' }, limits: { memory: '8Gi', 'nvidia.com/gpu': '1' } });
    expect(fit.retryStrategy).toEqual({ limit: '3', retryPolicy: 'Always' });
    expect(fit.activeDeadlineSeconds).toBe('5400');
    expect(fit.container!.env).toContainEqual({ name: 'KILN_STORE', valueFrom: { secretKeyRef: { name: 'kiln-team', key: 'store', optional: true } } });
    expect(manifest.spec).toMatchObject({ serviceAccountName: 'kiln-runner', parallelism: 4, imagePullSecrets: [{ name: 'ghcr-pull' }], nodeSelector: { 'kubernetes.io/arch': 'amd64', pool: 'gpu' }, tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] });
  });

  it('emits a 1,000-node pipeline (timed), with distinct DNS-1123 names for names that sanitise alike', async () => {
    const lines = ['  - { name: n0, run: ./nodes.ts#first, outputs: d0 }'];
    // A binary tree: node i reads what node (i-1)/2 wrote, so that most tasks can run side by side.
    for (let i = 1; i < 1000; i++) lines.push(`  - { name: n${i}, run: ./nodes.ts#step, inputs: d${Math.floor((i - 1) / 2)}, outputs: ${i === 999 ? 'out' : `d${i}`} }`);
    // Names that sanitise to one label, and one that sanitises to a reserved template name.
    lines.push('  - { name: Same_Name, run: ./nodes.ts#step, inputs: d1, outputs: s1 }', '  - { name: same_name, run: ./nodes.ts#step, inputs: d2, outputs: s2 }', '  - { name: kiln_finish, run: ./nodes.ts#step, inputs: d3, outputs: s3 }', '');
    const root = project(lines.join('\n'));
    const t0 = performance.now();
    const { manifest } = await emit(root, ['--image', 'ghcr.io/acme/big:1']);
    const ms = performance.now() - t0;
    console.log(`kiln emit argo, 1,003-node pipeline, in process (project analysis, emit, Argo schema validation): ${ms.toFixed(0)} ms`);
    const names = tasksOf(manifest).map((t) => t.name);
    expect(names).toHaveLength(1004);
    expect(new Set(names).size).toBe(1004);
    for (const n of names) expect(n).toMatch(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
    expect(names.filter((n) => n.startsWith('same-name-'))).toHaveLength(2);
    expect(names.filter((n) => n.startsWith('kiln-finish'))).toHaveLength(2);
    expect(tasksOf(manifest).find((t) => t.name === 'n999')!.dependencies).toEqual(['n499']);
  }, 60_000);

  it('carries quotes, newlines and YAML syntax in values as data, and refuses Argo expressions and bad images', async () => {
    const root = project('  - { name: only, run: ./nodes.ts#first, outputs: out, tags: [t] }\n');
    const value = `it's "quoted"\n- injected: true\n# comment`;
    const { manifest } = await emit(root, ['--image', 'ghcr.io/acme/x:1', '--params', `label=${value}`]);
    expect(manifest.spec.arguments!.parameters).toEqual([{ name: 'label', value, description: '--params label' }]);
    expect(manifest.spec).not.toHaveProperty('injected');

    const expr = await runMain(['emit', 'argo', '--project', root, '--image', 'ghcr.io/acme/x:1', '--params', 'label={{workflow.name}}'], { cwd: root });
    expect(expr.code).toBe(1);
    expect(expr.stderr).toContain('error KILN7072: --params "label={{workflow.name}}" cannot go into an Argo manifest');
    const tag = await runMain(['emit', 'argo', '--project', root, '--image', 'ghcr.io/acme/x:1', '--tags', 't,{{x}}'], { cwd: root });
    expect(tag.code).toBe(1);
    expect(tag.stderr).toContain('error KILN7072: --tags "{{x}}"');
    const image = await runMain(['emit', 'argo', '--project', root, '--image', 'ghcr.io/Acme/x:1 --privileged'], { cwd: root });
    expect(image.code).toBe(1);
    expect(image.stderr).toContain("error KILN7071: --image 'ghcr.io/Acme/x:1 --privileged' is not a container image reference: it contains white space");
    const missing = await runMain(['emit', 'argo', '--project', root], { cwd: root });
    expect(missing.code).toBe(2);
  });

  it('refuses a pod group that is not contiguous (KILN2041), located at the pod: line', async () => {
    const root = project(
      ['  - { name: a, run: ./nodes.ts#first, outputs: d1, pod: g }', '  - { name: b, run: ./nodes.ts#step, inputs: d1, outputs: d2 }', '  - { name: c, run: ./nodes.ts#step, inputs: d2, outputs: out, pod: g }', ''].join('\n'),
    );
    const r = await runMain(['emit', 'argo', '--project', root, '--image', 'x:1'], { cwd: root });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("pipelines/p/pipeline.yaml:5:69 error KILN2041: pod group 'g' is not contiguous: node 'b' of another task needs its node 'a' and is needed by its node 'c'");
    expect(r.stdout).toBe('');
  });

  it('validates resources and timeouts in the pipeline YAML (KILN1030, KILN1031), located', async () => {
    const root = project('  - { name: a, run: ./nodes.ts#first, outputs: out, resources: { cpu: 2 cores, memory: 1GB }, timeout: 1 hour }\n');
    const r = await runMain(['validate', '--project', root], { cwd: root });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/pipeline\.yaml:3:71 error KILN1030: "2 cores" in .* is not a Kubernetes quantity/);
    expect(r.stderr).toMatch(/error KILN1030: "1GB" in .* is not a Kubernetes quantity/);
    expect(r.stderr).toMatch(/error KILN1031: "1 hour" in .* is not a duration/);
  });
});

describe('yamlText', () => {
  it('reads back as the same value, whatever the strings and keys hold', () => {
    const tricky = ['', 'plain', "it's", '"q"', 'a: b # c', '- x', '\n\nlines\r\n', '\u2028\u2029\u0085\ufeff', '{{workflow.uid}}', '*alias &anchor !tag', '\u0000\u001f', 'é 🚀', 'null', 'true', '1e3', '0x1F'];
    const value = { list: tricky, map: Object.fromEntries(tricky.map((s, i) => [`k${i} ${s}`, s])), nested: [{ a: [], b: {}, c: [[1, 'x'], { d: null }] }], n: 1.5, yes: false };
    expect(parse(yamlText(value))).toEqual(value);
  });
});

describe('kiln emit dockerfile', () => {
  it('prints a Dockerfile that installs the project with npm ci and runs kiln', async () => {
    const r = await runMain(['emit', 'dockerfile'], { cwd: repoRoot });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^FROM node:20-slim$/m);
    expect(r.stdout).toMatch(/^RUN npm ci$/m);
    expect(r.stdout).toMatch(/^COPY \. \.$/m);
    expect(r.stdout).toMatch(/^ENTRYPOINT \["kiln"\]$/m);
  });
});
