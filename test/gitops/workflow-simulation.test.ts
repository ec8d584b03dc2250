// The workflow `kiln init --ci github` writes, run as GitHub would run its jobs' shell steps: each job on a fresh copy
// of the repository (no .kiln/, no cache restored: `uses:` steps are GitHub's and do not run here, nor does npm ci,
// kiln being linked in), with GITHUB_ENV carried from step to step and GITHUB_STEP_SUMMARY collected, against a real
// OCI registry standing in for GHCR. First without the KILN_STORE_URL secret, the workflow's degraded mode: what must
// hold there is that publishing and the gate preview are right from the registry alone: a pull request main would
// refuse is red before the merge, and main publishes v2 gated against v1 although no runner kept anything. Then with
// the secret naming a real PostgreSQL (the workflow maps it to KILN_STORE): a pull request's report finds the run main's
// job recorded at the merge base, and its run reuses main's nodes through the registry.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startRegistry, type TestRegistry } from '../helpers/oci-registry.ts';
import { skipPostgres, startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { checkout, checkoutNewBranch, commitAll, gitInit, kilnHere, linkKiln, mergeInto, repoRoot, tempDir } from './support.ts';

interface Step { name?: string; run?: string; uses?: string; env?: Record<string, string> }
interface Workflow { env: Record<string, string>; jobs: Record<string, { steps: Step[] }> }

let origin: string;
let registry: TestRegistry;
let workflow: Workflow;

/** The values GitHub would put in place of the expressions the workflow's env may hold; any other is a test failure. */
function evaluate(value: string, secrets: Record<string, string>): string {
  return value.replace(/\$\{\{\s*([^}]*?)\s*\}\}/g, (_, expr: string) => {
    const secret = /^secrets\.(\w+)$/.exec(expr);
    if (!secret) throw new Error(`the workflow simulation does not evaluate \${{ ${expr} }} in an env value`);
    return secrets[secret[1]] ?? '';
  });
}

/** A fresh clone of the origin: its commits and working tree, nothing a runner would not have. */
function cloneOrigin(): string {
  const dir = path.join(tempDir('kiln-wf-job-'), 'repo');
  fs.cpSync(origin, dir, { recursive: true, filter: (src) => !/[\\/](\.kiln|dist|node_modules|data)$/.test(src) });
  linkKiln(dir);
  fs.mkdirSync(path.join(dir, 'node_modules', '.bin'), { recursive: true });
  fs.symlinkSync(path.join(repoRoot, 'bin', 'kiln.js'), path.join(dir, 'node_modules', '.bin', 'kiln'));
  return dir;
}

interface JobResult { failed: string | null; summary: string; log: string }

/** Runs the shell steps of `job` in `dir` in order, as `bash -e`, stopping at the first that fails, as GitHub does. */
function runJob(job: string, dir: string, event: 'pull_request' | 'push', secrets: Record<string, string> = {}): JobResult {
  const home = tempDir('kiln-wf-home-');
  const summary = path.join(home, 'step-summary.md');
  const githubEnv = path.join(home, 'github-env');
  fs.writeFileSync(summary, '');
  fs.writeFileSync(githubEnv, '');
  const base: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    CI: 'true',
    NO_COLOR: '1',
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: event,
    GITHUB_REPOSITORY: 'Acme/Line-3',
    GITHUB_STEP_SUMMARY: summary,
    GITHUB_ENV: githubEnv,
    RUNNER_TEMP: home,
    npm_config_update_notifier: 'false',
  };
  // The workflow's own env, with the registry pointed at the test's (what the README says to change for another registry).
  const workflowEnv = { ...Object.fromEntries(Object.entries(workflow.env).map(([k, v]) => [k, evaluate(v, secrets)])), KILN_REGISTRY: registry.host };
  let log = '';
  for (const step of workflow.jobs[job].steps) {
    if (!step.run || step.run === 'npm ci') continue;
    const exported = Object.fromEntries(
      fs.readFileSync(githubEnv, 'utf8').split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    const stepEnv = Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, evaluate(v, secrets)]));
    const r = spawnSync('bash', ['-e', '-c', step.run], { cwd: dir, env: { ...base, ...workflowEnv, ...exported, ...stepEnv }, encoding: 'utf8', timeout: 120_000 });
    log += `--- ${step.name ?? step.run} (exit ${r.status})\n${r.stdout}${r.stderr}`;
    if (r.status !== 0) return { failed: step.name ?? step.run, summary: fs.readFileSync(summary, 'utf8'), log };
  }
  return { failed: null, summary: fs.readFileSync(summary, 'utf8'), log };
}

/** A pull request: branch `name` from main with the threshold changed, and the merge commit GitHub checks out for it. */
async function pullRequest(name: string, threshold: string): Promise<string> {
  await checkout(origin, 'main');
  await checkoutNewBranch(origin, name);
  const file = path.join(origin, 'pipelines/parameters.yaml');
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/threshold: [\d.]+/, `threshold: ${threshold}`));
  await commitAll(origin, `threshold ${threshold}`);
  await checkout(origin, 'main');
  await checkoutNewBranch(origin, `pull/${name}/merge`);
  await mergeInto(origin, `pull/${name}/merge`, name);
  const dir = cloneOrigin();
  await checkout(origin, 'main');
  return dir;
}

beforeAll(async () => {
  registry = await startRegistry();
  origin = path.join(tempDir('kiln-wf-origin-'), 'line-3');
  fs.cpSync(path.join(repoRoot, 'test/fixtures/projects/scorer'), origin, { recursive: true });
  fs.writeFileSync(path.join(origin, 'package.json'), '{ "type": "module" }\n');
  // The scaffold's .gitignore, and the scorer's outputs (under data/): whatever else a job writes in the checkout would
  // make the tree dirty and the publish refuse, as it would on GitHub.
  fs.writeFileSync(path.join(origin, '.gitignore'), `${fs.readFileSync(path.join(repoRoot, 'src/gitops/templates/init/gitignore.tmpl'), 'utf8')}data/\n`);
  const pipeline = path.join(origin, 'pipelines/score/pipeline.yaml');
  fs.writeFileSync(pipeline, `${fs.readFileSync(pipeline, 'utf8')}    better_than: production\n`);
  const template = fs.readFileSync(path.join(repoRoot, 'src/gitops/templates/init/github-workflow.yml.tmpl'), 'utf8').replace(/\{\{main\}\}/g, 'main');
  fs.mkdirSync(path.join(origin, '.github/workflows'), { recursive: true });
  fs.writeFileSync(path.join(origin, '.github/workflows/kiln.yml'), template);
  workflow = parse(template) as Workflow;
  expect((await kilnHere(['compile', '--no-typecheck'], origin)).code).toBe(0);
  await gitInit(origin);
  await commitAll(origin, 'scorer');
}, 60_000);

afterAll(async () => {
  await registry?.stop();
});

describe('the kiln workflow, its shell steps run job by job on fresh clones (no shared run store)', () => {
  it('publish job on main: publishes v1 to the registry, warning that runs are not shared without KILN_STORE_URL', () => {
    const job = runJob('publish', cloneOrigin(), 'push');
    expect(job.failed, job.log).toBeNull();
    expect(job.log).toContain('::warning title=kiln::no KILN_STORE_URL secret');
    expect(job.summary).toContain('### kiln publish\n\n**Published `scorer` v1: every condition holds.**');
    expect(job.summary).toContain('| `scorer@production` | (unset) → v1 |');
  });

  it('pull-request job: a change main would refuse is red at the gate preview, with the verdict in the summary after plan and report', async () => {
    const job = runJob('pull-request', await pullRequest('worse', '0.95'), 'pull_request');
    expect(job.failed, job.log).toBe('Preview the publish gate');
    const order = ['<!-- kiln-plan', '<!-- kiln-report -->', '<!-- kiln-publish -->'].map((marker) => job.summary.indexOf(marker));
    expect(order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1])), job.summary).toBe(true);
    expect(job.summary).toContain('### kiln publish --dry-run (as if merged into main)\n\n**Merged as it is, this commit would not be published by main:**');
    expect(job.summary).toContain("- **KILN7010** cannot publish 'scorer': accuracy is 0.7, worse than production (v1: 0.9)");
    // Degraded mode: this runner has no run of main to compare with, and says so.
    expect(job.summary).toContain('> **Note:** no FINISHED run of `score` at the base `main`');
  });

  it('pull-request job: a change main would publish is green, previewing v2; after the merge, a fresh main runner publishes v2 gated against v1', async () => {
    const pr = runJob('pull-request', await pullRequest('same', '0.5000001'), 'pull_request');
    expect(pr.failed, pr.log).toBeNull();
    expect(pr.summary).toContain('**Would publish `scorer` v2: every condition holds.**');
    expect(pr.summary).toContain('accuracy 0.9 \\>= 0.9 of production (v1)');

    await mergeInto(origin, 'main', 'same');
    const main = runJob('publish', cloneOrigin(), 'push');
    expect(main.failed, main.log).toBeNull();
    expect(main.summary).toContain('**Published `scorer` v2: every condition holds.**');
    expect(main.summary).toContain('accuracy 0.9 \\>= 0.9 of production (v1)');
    expect(main.summary).toContain('| `scorer@production` | v1 → v2 |');
  });
});

describe.skipIf(skipPostgres())('the kiln workflow with the KILN_STORE_URL secret (runs shared through PostgreSQL)', () => {
  let pg: TestPostgres;
  let secrets: Record<string, string>;
  beforeAll(async () => {
    pg = await startPostgres();
    secrets = { KILN_STORE_URL: await pg.freshStore() };
  });
  afterAll(async () => {
    await pg?.stop();
  });

  it("pull-request job: the report compares with the run main's job recorded at the merge base, on another runner", async () => {
    const main = runJob('publish', cloneOrigin(), 'push', secrets);
    expect(main.failed, main.log).toBeNull();
    expect(main.log).not.toContain('no KILN_STORE_URL secret');
    const mainRun = /run (\w+) finished/.exec(main.log)?.[1];
    expect(mainRun, main.log).toBeDefined();

    const pr = runJob('pull-request', await pullRequest('sharper', '0.55'), 'pull_request', secrets);
    expect(pr.failed, pr.log).toBeNull();
    // Its runner kept nothing of main's job: split and fit came from main's record and the registry.
    expect(pr.log).toContain('4 node(s), 2 skipped as unchanged');
    expect(pr.summary).not.toContain('no FINISHED run');
    expect(pr.summary).toMatch(new RegExp(`\\| Base \\(\`main\`\\) \\| \`[0-9a-f]{7}\` \\| \`${mainRun}\` \\|`));
    expect(pr.summary).toContain('| `accuracy` | 0.9 | 1 | ↑ +0.1 (+11.1%) |');
  });
});
