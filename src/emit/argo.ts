// A pipeline as an Argo Workflow (or WorkflowTemplate): a DAG with one task per node or pod group, each running
// `kiln run --run-id {{workflow.uid}} --task …` in the user's image, then a task that finishes the run (its artifact
// included), and an exit handler that marks the run FAILED with its resume hint when the workflow fails.
// Pure: the manifest comes back as text. Every value that came from YAML or the command line is either checked
// against a strict pattern or written as a JSON-quoted scalar (yaml-text.ts), and none may hold Argo's {{ }}.
import { diag, KilnError } from '../diagnostics/diagnostic.ts';
import type { Diagnostic } from '../diagnostics/types.ts';
import type { NodeFilter } from '../ir/filter.ts';
import type { NodeIR, ProjectIR, PipelineIR } from '../ir/types.ts';
import { largestQuantity } from './quantity.ts';
import { dnsLabel, uniqueLabels } from './kubernetes-names.ts';
import { planTasks, type Task } from './tasks.ts';
import { yamlText } from './yaml-text.ts';

export interface ArgoOptions {
  image: string;
  /** The nodes the filters selected, in topological order. */
  nodes: NodeIR[];
  /** The filters as given: every task repeats them, so that each process sees the same selection. */
  filter: NodeFilter;
  /** `--params` overrides as given (key=value), which become workflow parameters. */
  params: Array<{ key: string; value: string }>;
  /** A WorkflowTemplate instead of a Workflow. */
  template: boolean;
}

// Reserved template names: the DAG, the task that finishes the run, and the exit handler.
const DAG = 'kiln-dag';
const FINISH = 'kiln-finish';
const EXIT = 'kiln-exit';

/** Keys of kiln.yaml's `argo.secret` Secret and the variables kiln reads them from. */
export const SECRET_ENV: ReadonlyArray<readonly [string, string]> = [
  ['store', 'KILN_STORE'],
  ['objects', 'KILN_OBJECTS'],
  ['registry-username', 'KILN_REGISTRY_USERNAME'],
  ['registry-password', 'KILN_REGISTRY_PASSWORD'],
];

const FILTER_FLAGS: ReadonlyArray<readonly [keyof NodeFilter, string]> = [
  ['nodes', '--nodes'],
  ['fromNodes', '--from-nodes'],
  ['toNodes', '--to-nodes'],
  ['fromInputs', '--from-inputs'],
  ['toOutputs', '--to-outputs'],
  ['tags', '--tags'],
  ['namespaces', '--namespaces'],
];

// What docker pull takes: [registry[:port]/]path[:tag][@sha256:digest], lowercase path components.
const IMAGE = /^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

function imageProblem(image: string): string | null {
  if (image === '') return 'it is empty';
  if (/\s/.test(image)) return 'it contains white space';
  if (image.length > 512) return 'it is longer than 512 characters';
  return IMAGE.test(image) ? null : 'it does not read as [registry/]repository[:tag][@sha256:digest] with a lowercase repository';
}

/** Refuses what would not reach the pods unchanged: a bad image, or a value Argo would read as an expression. */
function checkCarried(opts: ArgoOptions): Diagnostic[] {
  const out: Diagnostic[] = [];
  const problem = imageProblem(opts.image);
  if (problem) out.push(diag('KILN7071', { image: opts.image, reason: problem }));
  const carried: Array<[string, string]> = [];
  for (const [k, flag] of FILTER_FLAGS) for (const v of opts.filter[k] ?? []) carried.push([flag, v]);
  for (const p of opts.params) carried.push(['--params', `${p.key}=${p.value}`]);
  for (const [flag, value] of carried) {
    if (value.includes('{{') || value.includes('}}')) out.push(diag('KILN7072', { flag, value: JSON.stringify(value), reason: 'it holds {{ or }}' }));
  }
  return out;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function containerEnv(ir: ProjectIR): Json[] {
  const secret = ir.settings.argo?.secret;
  if (!secret) return [];
  return SECRET_ENV.map(([key, name]) => ({ name, valueFrom: { secretKeyRef: { name: secret, key, optional: true } } }));
}

/** A group asks for the most any of its nodes asks for: they run one after the other in one process. */
function resourcesOf(t: Task): Json | null {
  const rs = t.nodes.map((n) => n.deploy?.resources).filter((r) => r !== undefined);
  if (rs.length === 0) return null;
  const cpu = largestQuantity(rs.flatMap((r) => (r.cpu ? [r.cpu] : [])));
  const memory = largestQuantity(rs.flatMap((r) => (r.memory ? [r.memory] : [])));
  const gpus = Math.max(0, ...rs.map((r) => r.gpu ?? 0));
  const requests: Record<string, string> = {};
  const limits: Record<string, string> = {};
  if (cpu) requests.cpu = cpu;
  if (memory) requests.memory = limits.memory = memory;
  if (gpus > 0) requests['nvidia.com/gpu'] = limits['nvidia.com/gpu'] = String(gpus);
  return { ...(Object.keys(requests).length ? { requests } : {}), ...(Object.keys(limits).length ? { limits } : {}) };
}

/** Retries: the most any node of the task allows. Deadline: the sum of its nodes' timeouts, only when each has one. */
function limitsOf(t: Task): Record<string, Json> {
  const out: Record<string, Json> = {};
  const retries = Math.max(0, ...t.nodes.map((n) => n.deploy?.retries ?? 0));
  if (retries > 0) out.retryStrategy = { limit: String(retries), retryPolicy: 'Always' };
  const timeouts = t.nodes.map((n) => n.deploy?.timeoutSeconds);
  if (timeouts.every((s) => s !== undefined && s > 0)) out.activeDeadlineSeconds = String(timeouts.reduce((a, b) => a! + b!, 0));
  return out;
}

export function emitArgo(ir: ProjectIR, pipeline: PipelineIR, opts: ArgoOptions): string {
  const problems = checkCarried(opts);
  if (problems.length) throw new KilnError(problems);
  const tasks = planTasks(opts.nodes);
  // A pod group and a node may have one name: labels are made per task key, so they stay distinct.
  const labels = uniqueLabels(tasks.map((t) => t.key), [DAG, FINISH, EXIT], (key) => key.replace(/^(pod|node):/, ''));
  const label = (t: Task) => labels.get(t.key)!;
  const byKey = new Map(tasks.map((t) => [t.key, t]));
  const paramNames = uniqueLabels(opts.params.map((p) => p.key));

  const common: string[] = ['run', pipeline.name];
  for (const [k, flag] of FILTER_FLAGS) if (opts.filter[k]?.length) common.push(flag, opts.filter[k]!.join(','));
  common.push('--run-id', '{{workflow.uid}}');
  const paramArgs = opts.params.flatMap((p) => ['--params', `${p.key}={{workflow.parameters.${paramNames.get(p.key)}}}`]);
  const env = containerEnv(ir);
  const container = (args: string[], resources: Json | null): Json => ({
    image: opts.image,
    command: ['kiln'],
    args,
    ...(env.length ? { env } : {}),
    ...(resources ? { resources } : {}),
  });

  const dagTasks: Json[] = tasks.map((t) => ({
    name: label(t),
    template: label(t),
    ...(t.after.length ? { dependencies: t.after.map((k) => label(byKey.get(k)!)) } : {}),
  }));
  const needed = new Set(tasks.flatMap((t) => t.after));
  dagTasks.push({ name: FINISH, template: FINISH, dependencies: tasks.filter((t) => !needed.has(t.key)).map(label) });

  const templates: Json[] = [
    { name: DAG, dag: { tasks: dagTasks } },
    ...tasks.map((t) => ({
      name: label(t),
      metadata: { annotations: { 'kiln.dev/nodes': t.nodes.map((n) => n.name).join(',') } },
      ...limitsOf(t),
      container: container([...common, '--task', t.nodes.map((n) => n.name).join(','), ...paramArgs], resourcesOf(t)),
    })),
    { name: FINISH, container: container([...common, '--finish', ...paramArgs], null) },
    { name: EXIT, container: container([...common, '--finish={{workflow.status}}', ...paramArgs], null) },
  ];

  const argo = ir.settings.argo ?? {};
  const spec: Record<string, Json> = {
    entrypoint: DAG,
    onExit: EXIT,
    ...(opts.params.length ? { arguments: { parameters: opts.params.map((p) => ({ name: paramNames.get(p.key)!, value: p.value, description: `--params ${p.key}` })) } } : {}),
    ...(argo.serviceAccountName ? { serviceAccountName: argo.serviceAccountName } : {}),
    ...(argo.parallelism ? { parallelism: argo.parallelism } : {}),
    ...(argo.nodeSelector && Object.keys(argo.nodeSelector).length ? { nodeSelector: Object.fromEntries(Object.entries(argo.nodeSelector).sort(([a], [b]) => (a < b ? -1 : 1))) } : {}),
    ...(argo.tolerations?.length ? { tolerations: argo.tolerations as Json[] } : {}),
    ...(argo.imagePullSecrets?.length ? { imagePullSecrets: argo.imagePullSecrets.map((name) => ({ name })) } : {}),
    templates,
  };
  const name = dnsLabel(`${ir.settings.name}-${pipeline.name}`).slice(0, 52).replace(/-+$/, '');
  const manifest = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: opts.template ? 'WorkflowTemplate' : 'Workflow',
    metadata: {
      ...(opts.template ? { name } : { generateName: `${name}-` }),
      annotations: { 'kiln.dev/project': ir.settings.name, 'kiln.dev/pipeline': pipeline.name },
    },
    spec,
  };
  const header = `# Generated by kiln emit argo from pipeline '${pipeline.name}'; do not edit, emit it again.\n`;
  return header + yamlText(manifest);
}
