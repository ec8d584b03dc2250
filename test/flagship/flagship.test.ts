// The flagship spam filter end to end with small settings: kiln run trains on real email, records the run and builds
// the artifact; kiln predict on the test split's raw emails gives exactly the predictions the run recorded; kiln serve
// answers a raw email posted to /invocations.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kiln, repoRoot } from '../artifact/support.ts';
import { servingPort } from '../helpers/cli.ts';

// Inside the repository (under the ignored .kiln/), so that the copy resolves 'kiln' and its packages like a checkout does.
const project = path.join(repoRoot, '.kiln', 'test-projects', `flagship-${randomBytes(4).toString('hex')}`);
const small = ['--params', 'train.epochs=3,features.vocabulary_size=1500,ingest.groups=["easy-ham-2","hard-ham-1","spam-2"]'];
let runOut = { code: 0, stdout: '', stderr: '' };
let artifact = '';

beforeAll(async () => {
  await fs.mkdir(project, { recursive: true });
  await fs.cp(path.join(repoRoot, 'kiln.yaml'), path.join(project, 'kiln.yaml'));
  await fs.cp(path.join(repoRoot, 'pipelines'), path.join(project, 'pipelines'), { recursive: true });
  runOut = await kiln(['run', ...small, '--backend', 'wasm'], project);
  const m = /artifact spam-filter from run \w+: (\S+)/.exec(runOut.stderr);
  artifact = m ? path.resolve(project, m[1]) : '';
}, 300_000);

afterAll(async () => {
  await fs.rm(project, { recursive: true, force: true });
});

describe('flagship spam filter', () => {
  it('trains, evaluates, records the run and builds an artifact that passes parity', () => {
    expect(runOut.code, runOut.stderr).toBe(0);
    expect(runOut.stderr).toMatch(/backend: wasm/);
    expect(runOut.stderr).toMatch(/parity: \d+ record\(s\) identical to training on wasm/);
    const accuracy = Number(/^accuracy\s+([\d.]+)$/m.exec(runOut.stdout)?.[1]);
    expect(accuracy).toBeGreaterThan(0.9);
    expect(runOut.stdout).toMatch(/^f1\s+[\d.]+$/m);
    expect(runOut.stdout).toMatch(/^roc_auc\s+[\d.]+$/m);
  });

  it('records parameters, per-epoch metrics and the training curves with the run', async () => {
    const list = JSON.parse((await kiln(['runs', 'list', '--json'], project)).stdout);
    const show = JSON.parse((await kiln(['runs', 'show', list[0].id, '--json'], project)).stdout);
    expect(show.params['train.epochs']).toBe(3);
    expect(show.params['ingest.groups']).toEqual(['easy-ham-2', 'hard-ham-1', 'spam-2']);
    expect(show.backend).toBe('wasm');
    expect(show.files.map((f: { name: string }) => f.name)).toContain('training-curves.svg');
    expect(show.metrics['train.loss'].historyLength).toBeGreaterThanOrEqual(2);
    expect(Object.keys(show.metrics).filter((k) => k.startsWith('train.')).sort()).toEqual(['train.acc', 'train.loss', 'train.val_acc', 'train.val_loss']);
    expect(show.nodes.map((n: { node: string }) => n.node).sort()).toEqual(['evaluate', 'featurize_test', 'featurize_train', 'fit_vocabulary', 'ingest', 'predict', 'split', 'train']);
  });

  it('kiln predict on the test split gives exactly the predictions the run recorded', async () => {
    const pairs = (await fs.readFile(path.join(artifact, 'parity.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    const input = path.join(project, 'test-emails.jsonl');
    await fs.writeFile(input, pairs.map((p) => JSON.stringify(p.input)).join('\n') + '\n');
    const out = path.join(project, 'predicted.jsonl');
    const r = await kiln(['predict', artifact, '--input', input, '--output', out], project);
    expect(r.code, r.stderr).toBe(0);
    const predicted = (await fs.readFile(out, 'utf8')).trim().split('\n');
    const recorded = (await fs.readFile(path.join(project, 'data', 'outputs', 'test_predictions.jsonl'), 'utf8')).trim().split('\n');
    expect(predicted.length).toBe(pairs.length);
    expect(predicted).toEqual(recorded);
  });

  it('kiln serve answers a raw email posted to /invocations', async () => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'kiln.js'), 'serve', artifact, '--port', '0'], { cwd: project, env: { ...process.env, NO_COLOR: '1' } });
    const port = await servingPort(child);
    const email = 'From: "Prize Desk" <winner@lucky-prize.example>\nSubject: You have WON $1,000,000 - claim now!!!\nContent-Type: text/html\n\n<html><body><b>CLICK HERE</b> to claim your FREE prize. Limited time offer, act now! Remove me from this list.</body></html>\n';
    const res = await fetch(`http://127.0.0.1:${port}/invocations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: [{ text: email }] }) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { predictions: Array<{ label: string; spam_probability: number }> };
    expect(body.predictions).toHaveLength(1);
    expect(body.predictions[0].label).toBe('spam');
    const bad = await fetch(`http://127.0.0.1:${port}/invocations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: [{ body: email }] }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/record 0.*text/);
    child.kill('SIGTERM');
    expect(await new Promise((resolve) => child.on('exit', (code) => resolve(code)))).toBe(0);
  });
});
