// kiln ui tests: the scorer fixture in a git repository (main, then branch feat with a changed parameter), runs
// recorded through the tracking library, and `kiln ui` as a real child process on a free port.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll } from 'vitest';
import { openTracking, type NewRun } from '../../src/tracking/index.ts';
import { checkoutNewBranch, commitAll, gitInit, repoRoot, tempDir } from '../gitops/support.ts';

export { repoRoot, tempDir };

export const XSS = '<img src=x onerror="document.title=\'pwned\'">';

export interface ScorerProject {
  root: string;
  base: string;
  head: string;
  /** Run ids: a and b finished (b with a higher threshold), c failed. */
  runs: { a: string; b: string; c: string };
}

function newRun(root: string, commit: string, branch: string, params: Record<string, unknown>): NewRun {
  return { pipeline: 'score', command: ['kiln', 'run', 'score'], git: { root, commit, branch, dirty: false, uncommitted: [], diffHash: null }, versions: { kiln: '0.2.0', node: process.version, tfjs: null }, backend: null, params };
}

/** The scorer project with a description and a run tag carrying markup (pull-request YAML is untrusted). */
export async function scorerProject(prefix = 'kiln-ui-'): Promise<ScorerProject> {
  const root = tempDir(prefix);
  fs.cpSync(path.join(repoRoot, 'test/fixtures/projects/scorer'), root, { recursive: true });
  fs.writeFileSync(path.join(root, 'package.json'), '{ "type": "module" }\n');
  fs.writeFileSync(path.join(root, '.gitignore'), '.kiln/\ndata/\nnode_modules/\n');
  const catalog = path.join(root, 'pipelines/catalog.yaml');
  fs.writeFileSync(catalog, fs.readFileSync(catalog, 'utf8').replace('measurements:\n', `measurements:\n  description: ${JSON.stringify(XSS)}\n`));
  await gitInit(root);
  const base = await commitAll(root, 'base');
  await checkoutNewBranch(root, 'feat');
  const params = path.join(root, 'pipelines/parameters.yaml');
  fs.writeFileSync(params, fs.readFileSync(params, 'utf8').replace('threshold: 0.5', 'threshold: 0.6'));
  const head = await commitAll(root, 'threshold 0.6');
  const t = openTracking(path.join(root, '.kiln'));
  try {
    const record = async (commit: string, branch: string, threshold: number, accuracy: number[], status: 'FINISHED' | 'FAILED') => {
      const r = await t.runs.createRun(newRun(root, commit, branch, { seed: 7, split: { test_every: 4 }, threshold }));
      for (let step = 0; step < accuracy.length; step++) await t.runs.logMetrics(r.id, { accuracy: accuracy[step], loss: 1 - accuracy[step], val_loss: 1.1 - accuracy[step] }, { step });
      for (const node of ['split', 'fit', 'score', 'evaluate']) {
        const id = await t.runs.startNode(r.id, node, { fingerprint: `${node}`.padEnd(64, '0') });
        await t.runs.finishNode(id, { status: status === 'FAILED' && node === 'evaluate' ? 'FAILED' : 'FINISHED', cacheHit: node === 'split' && threshold > 0.5 });
      }
      await t.runs.logFile(r.id, 'notes.txt', 'trained on 30 rows');
      await t.runs.setTag(r.id, 'note', XSS);
      await t.runs.finishRun(r.id, { status, ...(status === 'FAILED' ? { error: 'evaluate failed: boom' } : {}) });
      return r.id;
    };
    const a = await record(base, 'main', 0.5, [0.7, 0.8, 0.85], 'FINISHED');
    const b = await record(head, 'feat', 0.6, [0.75, 0.85, 0.9], 'FINISHED');
    const c = await record(head, 'feat', 0.6, [0.5], 'FAILED');
    // Two versions and an alias moved forward then rolled back: the models view shows that history.
    await t.registry.registerVersion({ model: 'scorer', artifactPath: 'dist/models/scorer/v1', artifactSha256: '1'.repeat(64), runId: a, commit: base });
    await t.registry.registerVersion({ model: 'scorer', artifactPath: 'dist/models/scorer/v2', artifactSha256: '2'.repeat(64), runId: b, commit: head });
    await t.registry.setAlias('scorer', 'production', 1);
    await t.registry.setAlias('scorer', 'production', 2);
    await t.registry.setAlias('scorer', 'production', 1);
    return { root, base, head, runs: { a, b, c } };
  } finally {
    t.close();
  }
}

export interface UiProcess {
  url: string;
  child: ChildProcessWithoutNullStreams;
  stop(): Promise<void>;
}

const started: UiProcess[] = [];
afterAll(async () => {
  await Promise.all(started.splice(0).map((p) => p.stop()));
});

/** `kiln ui --port 0` on `root`; resolves with the URL it prints. */
export function startUi(root: string, args: string[] = []): Promise<UiProcess> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.VITEST;
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'kiln.js'), 'ui', '--port', '0', '--project', root, ...args], { cwd: root, env });
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) {
        const p: UiProcess = {
          url: m[1],
          child,
          stop: () =>
            new Promise<void>((done) => {
              if (child.exitCode !== null) return done();
              child.once('exit', () => done());
              child.kill('SIGTERM');
            }),
        };
        started.push(p);
        resolve(p);
      }
    });
    child.on('exit', (code) => reject(new Error(`kiln ui exited ${code}: ${out}${err}`)));
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- assertions read the answers' shapes
export async function getJson(url: string): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(url);
  return { status: res.status, json: await res.json(), headers: res.headers };
}
