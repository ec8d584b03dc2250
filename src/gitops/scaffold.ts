// `kiln init`: the files of a new project in the flagship's layout (kiln.yaml, pipelines/ with a small working
// classifier, its input data, generated/ already compiled), and optionally a GitHub Actions workflow. Pure apart from
// reading kiln's own templates: it returns the files; the CLI writes them.
import { readFileSync } from 'node:fs';
import type { ProjectHost } from '../config/host.ts';
import { compile } from '../codegen/compile.ts';
import { diag, KilnError } from '../diagnostics/diagnostic.ts';
import { didYouMean } from '../diagnostics/didyoumean.ts';
import { analyzeProject } from '../project.ts';
import { newPackageJson } from './init-package.ts';

export const CI_PROVIDERS = ['github'] as const;
export type CiProvider = (typeof CI_PROVIDERS)[number];

export interface ScaffoldOptions {
  /** Project name (kiln.yaml `name`), also the model's name. */
  name: string;
  ci?: string | null;
  /** The main branch written to kiln.yaml and the workflow. */
  main?: string;
}

const templates = new URL('./templates/init/', import.meta.url);

/** Template file → where it goes in the project. Dot files are stored without their dot (npm drops .gitignore files). */
const FILES: Array<[template: string, target: string, ci?: CiProvider]> = [
  ['kiln.yaml.tmpl', 'kiln.yaml'],
  ['gitignore.tmpl', '.gitignore'],
  ['tsconfig.json.tmpl', 'tsconfig.json'],
  ['README.md.tmpl', 'README.md'],
  ['pipelines/catalog.yaml.tmpl', 'pipelines/catalog.yaml'],
  ['pipelines/parameters.yaml.tmpl', 'pipelines/parameters.yaml'],
  ['pipelines/classifier/pipeline.yaml.tmpl', 'pipelines/classifier/pipeline.yaml'],
  ['pipelines/classifier/nodes.ts.tmpl', 'pipelines/classifier/nodes.ts'],
  ['pipelines/classifier/model.ts.tmpl', 'pipelines/classifier/model.ts'],
  ['pipelines/classifier/schemas/reading.schema.json.tmpl', 'pipelines/classifier/schemas/reading.schema.json'],
  ['pipelines/classifier/schemas/reading-input.schema.json.tmpl', 'pipelines/classifier/schemas/reading-input.schema.json'],
  ['github-workflow.yml.tmpl', '.github/workflows/kiln.yml', 'github'],
];

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

/** A project name from a folder name: invalid characters become dashes; null when nothing usable is left. */
export function projectNameFrom(folder: string): string | null {
  const name = folder.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').replace(/[-.]+$/, '').slice(0, 100);
  return NAME.test(name) ? name : null;
}

/** Fills `{{key}}` placeholders; GitHub's `${{ expr }}` (with spaces) is left alone. */
function fill(text: string, values: Record<string, string>, file: string): string {
  return text.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    if (!(key in values)) throw new Error(`internal error: template ${file} uses an unknown placeholder {{${key}}}`);
    return values[key];
  });
}

/** Sensor readings with a label that depends on both features plus noise: a linear model reaches about 90%. */
export function exampleReadings(count = 240, seed = 20240501): string {
  let s = seed >>> 0;
  const uniform = () => {
    // mulberry32
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const temperature = Math.round((65 + 8 * normal()) * 10) / 10;
    const vibration = Math.round(Math.max(0.1, 3 + normal()) * 100) / 100;
    const logit = 0.25 * (temperature - 68) + 1.6 * (vibration - 3.4) + 0.8 * normal();
    lines.push(JSON.stringify({ id: `r${String(i + 1).padStart(3, '0')}`, temperature, vibration, faulty: logit > 0 ? 1 : 0 }));
  }
  return lines.join('\n') + '\n';
}

function memoryHost(root: string, files: ReadonlyMap<string, string>): ProjectHost {
  return {
    root,
    readFile: async (rel) => files.get(rel),
    fileSize: async (rel) => (files.has(rel) ? Buffer.byteLength(files.get(rel)!) : undefined),
    listFiles: async (dir) => [...files.keys()].filter((f) => !dir || f.startsWith(`${dir.replace(/\/+$/, '')}/`)).sort(),
  };
}

/** Every file of the new project (project-relative path → content), generated/ included. */
export async function scaffoldProject(root: string, opts: ScaffoldOptions): Promise<Map<string, string>> {
  if (!NAME.test(opts.name)) throw new KilnError(diag('KILN7019', { name: opts.name, reason: 'a project name is letters, digits, ".", "_" and "-", starting with a letter or digit' }));
  const ci = opts.ci ?? null;
  if (ci !== null && !(CI_PROVIDERS as readonly string[]).includes(ci)) throw new KilnError(diag('KILN7018', { ci, suggestion: didYouMean(ci, CI_PROVIDERS).replace(/^ did/, ' Did'), known: CI_PROVIDERS.join(', ') }));
  const values = { name: opts.name, model: opts.name, main: opts.main ?? 'main' };
  const files = new Map<string, string>();
  for (const [template, target, provider] of FILES) {
    if (provider && provider !== ci) continue;
    files.set(target, fill(readFileSync(new URL(template, templates), 'utf8'), values, template));
  }
  files.set('package.json', newPackageJson(opts.name));
  files.set('data/raw/readings.jsonl', exampleReadings());

  // Compile here, so that the first commit holds generated/ and `kiln compile --check` passes in CI from the start.
  const analyzed = await analyzeProject(memoryHost(root, files));
  if (!analyzed.ok || !analyzed.ir) throw new Error(`internal error: the kiln init templates do not validate:\n${analyzed.diagnostics.map((d) => `${d.code} ${d.location?.file ?? ''}:${d.location?.line ?? ''} ${d.message}`).join('\n')}`);
  const output = await compile(analyzed.ir);
  if (output.diagnostics.some((d) => d.severity === 'error')) throw new Error(`internal error: the kiln init templates do not compile: ${output.diagnostics.map((d) => d.message).join('; ')}`);
  for (const [rel, text] of output.files) files.set(rel, text);
  return new Map([...files.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
}
