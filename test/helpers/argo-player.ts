// Plays an emitted Argo Workflow without Kubernetes, as a test harness of Argo's semantics (not a scheduler anyone
// runs): reads the manifest's YAML (not kiln's IR), runs each DAG task's container args as `kiln` in a separate OS
// process, in dependency order, at most spec.parallelism at a time, retrying a failed task per its retryStrategy,
// scheduling nothing new once a task has failed for good (Argo's failFast), then the onExit template with
// {{workflow.status}}. Each attempt runs in a fresh copy of the project with its own HOME and an environment made only
// of what the manifest asks for: each `env` entry's secretKeyRef is looked up in the Secrets the caller gives, as the
// kubelet does (a missing optional key leaves the variable unset; a missing required one fails the pod).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { parse } from 'yaml';
import { repoRoot, tempDir } from './project.ts';

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } };
}

interface Container {
  command: string[];
  args: string[];
  env?: EnvVar[];
}

interface Template {
  name: string;
  dag?: { tasks: Array<{ name: string; template: string; dependencies?: string[] }> };
  container?: Container;
  retryStrategy?: { limit?: string | number };
}

interface Workflow {
  spec: {
    entrypoint: string;
    onExit?: string;
    parallelism?: number;
    arguments?: { parameters?: Array<{ name: string; value: string }> };
    templates: Template[];
  };
}

export interface Attempt {
  task: string;
  attempt: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

export interface Play {
  status: 'Succeeded' | 'Failed';
  uid: string;
  attempts: Attempt[];
  /** The exit handler's run, when the workflow has one. */
  exit: Attempt | null;
}

export interface PlayOptions {
  /** A fresh copy of the project for one attempt of one task (its working directory). */
  copy: () => string;
  /** The cluster's Secrets: name → key → value (what `kubectl create secret generic` holds). */
  secrets?: Record<string, Record<string, string>>;
  /** `argo submit -p name=value`. */
  parameters?: Record<string, string>;
  /** Called when an attempt's process starts (a test may kill it). */
  onStart?: (task: string, attempt: number, child: ChildProcess) => void;
}

function substitute(args: string[], vars: Record<string, string>): string[] {
  return args.map((a) =>
    a.replace(/\{\{\s*([\w.-]+)\s*\}\}/g, (whole, name: string) => {
      if (!(name in vars)) throw new Error(`the player does not know {{${name}}}`);
      return vars[name];
    }),
  );
}

/** The container's variables as the kubelet resolves them, or why the pod cannot start (CreateContainerConfigError). */
function containerEnv(c: Container, secrets: PlayOptions['secrets'] = {}): { env: Record<string, string> } | { error: string } {
  const env: Record<string, string> = {};
  for (const v of c.env ?? []) {
    if (v.value !== undefined) env[v.name] = v.value;
    const ref = v.valueFrom?.secretKeyRef;
    if (!ref) continue;
    const value = secrets[ref.name]?.[ref.key];
    if (value !== undefined) env[v.name] = value;
    else if (!ref.optional) return { error: `secret "${ref.name}" has no key "${ref.key}" (${v.name})` };
  }
  return { env };
}

function runContainer(c: Container, vars: Record<string, string>, opts: PlayOptions, task: string, attempt: number): Promise<Attempt> {
  if (c.command.join(' ') !== 'kiln') throw new Error(`task ${task} runs ${c.command.join(' ')}, not kiln`);
  const resolved = containerEnv(c, opts.secrets);
  if ('error' in resolved) return Promise.resolve({ task, attempt, code: null, signal: null, stderr: `CreateContainerConfigError: ${resolved.error}` });
  const cwd = opts.copy();
  const home = tempDir('kiln-play-home-');
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, NO_COLOR: '1', ...resolved.env };
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'kiln.js'), ...substitute(c.args, vars)], { cwd, env });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  child.stdout.resume();
  opts.onStart?.(task, attempt, child);
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ task, attempt, code, signal, stderr })));
}

export async function playWorkflow(yamlText: string, opts: PlayOptions): Promise<Play> {
  const wf = parse(yamlText) as Workflow;
  const templates = new Map(wf.spec.templates.map((t) => [t.name, t]));
  const dag = templates.get(wf.spec.entrypoint)?.dag;
  if (!dag) throw new Error('the entrypoint is not a DAG template');
  const uid = randomUUID();
  const vars: Record<string, string> = { 'workflow.uid': uid };
  for (const p of wf.spec.arguments?.parameters ?? []) vars[`workflow.parameters.${p.name}`] = opts.parameters?.[p.name] ?? p.value;
  const parallelism = wf.spec.parallelism ?? Infinity;
  const attempts: Attempt[] = [];
  const state = new Map(dag.tasks.map((t) => [t.name, 'waiting' as 'waiting' | 'running' | 'Succeeded' | 'Failed']));
  let failed = false;

  const runTask = async (name: string): Promise<void> => {
    const t = dag.tasks.find((x) => x.name === name)!;
    const template = templates.get(t.template)!;
    const limit = Number(template.retryStrategy?.limit ?? 0);
    for (let attempt = 0; attempt <= limit; attempt++) {
      const a = await runContainer(template.container!, vars, opts, name, attempt);
      attempts.push(a);
      if (a.code === 0) {
        state.set(name, 'Succeeded');
        return;
      }
    }
    state.set(name, 'Failed');
    failed = true;
  };

  const running = new Set<Promise<void>>();
  for (;;) {
    const ready = failed ? [] : dag.tasks.filter((t) => state.get(t.name) === 'waiting' && (t.dependencies ?? []).every((d) => state.get(d) === 'Succeeded'));
    for (const t of ready) {
      if (running.size >= parallelism) break;
      state.set(t.name, 'running');
      const p: Promise<void> = runTask(t.name).finally(() => running.delete(p));
      running.add(p);
    }
    if (running.size === 0) break;
    await Promise.race(running);
  }
  const status = !failed && [...state.values()].every((s) => s === 'Succeeded') ? 'Succeeded' : 'Failed';
  let exit: Attempt | null = null;
  if (wf.spec.onExit) exit = await runContainer(templates.get(wf.spec.onExit)!.container!, { ...vars, 'workflow.status': status }, opts, wf.spec.onExit, 0);
  return { status, uid, attempts, exit };
}
