// docs/tutorial.md is run, not just read: its ```sh blocks run in order in one shell in an empty folder with real git
// and this repository's kiln (a `kiln` on PATH that runs bin/kiln.js; `npm install` links this repository as
// node_modules/kiln-ml), and each ```text block must match the output of the ```sh block before it. A slow suite
// (test/slow-suites.ts): it trains three times and builds and checks two artifacts.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from '../gitops/support.ts';

interface Step {
  script: string;
  expected?: string;
}

/** The ```sh blocks of a Markdown page, each with the ```text block that follows it (before the next ```sh), if any. */
function tutorialSteps(markdown: string): Step[] {
  const steps: Step[] = [];
  for (const m of markdown.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)) {
    if (m[1] === 'sh') steps.push({ script: m[2] });
    else if (m[1] === 'text' && steps.length && steps[steps.length - 1].expected === undefined) steps[steps.length - 1].expected = m[2];
  }
  return steps;
}

/** Every non-blank expected line matches a whole output line, in order; … stands for any text. */
function unmatchedLine(expected: string, output: string): string | null {
  const lines = output.split('\n').map((l) => l.trimEnd());
  let at = 0;
  for (const want of expected.split('\n').filter((l) => l.trim())) {
    const re = new RegExp(`^${want.trimEnd().split('…').map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    while (at < lines.length && !re.test(lines[at])) at++;
    if (at === lines.length) return want;
    at++;
  }
  return null;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const MARK = '@@tutorial-step@@';
const tutorial = fs.readFileSync(path.join(repoRoot, 'docs/tutorial.md'), 'utf8');
const steps = tutorialSteps(tutorial);
let outputs: string[] = [];
let failure = '';

beforeAll(async () => {
  const dir = tempDir('kiln-tutorial-');
  const bin = path.join(dir, '.bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'kiln'), `#!/bin/sh\nexec '${process.execPath}' '${path.join(repoRoot, 'bin', 'kiln.js')}' "$@"\n`, { mode: 0o755 });
  const work = path.join(dir, 'work');
  fs.mkdirSync(work);
  const port = String(await freePort());
  // What the reader's machine provides that the test cannot: the registry (npm install) and a free port 8080.
  const script = steps
    .map((s, i) => `echo '${MARK}${i}'\n${s.script.replace(/^npm install$/m, `mkdir -p node_modules && ln -s '${repoRoot}' node_modules/kiln-ml`).replaceAll('8080', port)}`)
    .join('\n');
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}`, NO_COLOR: '1', HOME: dir };
  for (const k of ['FORCE_COLOR', 'VITEST', 'VITEST_WORKER_ID', 'VITEST_POOL_ID', 'GIT_DIR', 'GIT_WORK_TREE']) delete env[k];
  Object.assign(env, { GIT_AUTHOR_NAME: 'Reader', GIT_AUTHOR_EMAIL: 'reader@example.com', GIT_COMMITTER_NAME: 'Reader', GIT_COMMITTER_EMAIL: 'reader@example.com' });
  const r = spawnSync('bash', ['-c', `set -eu\nexec 2>&1\n${script}`], { cwd: work, env, encoding: 'utf8', timeout: 540_000 });
  outputs = r.stdout.split(new RegExp(`^${MARK}\\d+\\n`, 'm')).slice(1);
  if (r.status !== 0) failure = `step ${outputs.length} exited ${r.status ?? r.signal}:\n${steps[outputs.length - 1]?.script}\n--- output ---\n${outputs[outputs.length - 1] ?? r.stdout}`;
}, 600_000);

describe('docs/tutorial.md', () => {
  it('has commands to run and output to check', () => {
    expect(steps.length).toBeGreaterThan(8);
    expect(steps.filter((s) => s.expected).length).toBeGreaterThan(8);
  });

  it('runs every command block to the end', () => {
    expect(failure).toBe('');
    expect(outputs.length).toBe(steps.length);
  });

  it.each(steps.map((s, i) => [i, s] as const).filter(([, s]) => s.expected))('step %i prints what the tutorial shows', (i, step) => {
    const output = outputs[i] ?? '';
    expect(unmatchedLine(step.expected!, output), `${step.script}\n--- output ---\n${output}`).toBeNull();
  });
});
