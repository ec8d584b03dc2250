// compile(ir) → generated files. Pure: no I/O; the CLI writes the files.
import path from 'node:path';
import type { Diagnostic, SourceLocation } from '../diagnostics/types.ts';
import { diag } from '../diagnostics/diagnostic.ts';
import type { PipelineIR, ProjectIR } from '../ir/types.ts';
import { commentText, lit, typeName } from './literals.ts';
import { render } from './render.ts';
import { parameterType, schemaToTypeScript } from './types.ts';
import { datasetTypes, importPath, importsView, moduleAliases, nodeView, type SchemaTypeRef } from './view.ts';

export interface CompileOutput {
  /** Project-relative path → content. */
  files: Map<string, string>;
  diagnostics: Diagnostic[];
  /** Pipeline name → generated module path (project-relative). */
  pipelineModules: Record<string, string>;
  /** Model name → generated inference module path (project-relative). */
  modelModules: Record<string, string>;
}

export { GENERATED_HEADER, pipelineFile, modelFile } from './paths.ts';
import { GENERATED_HEADER, pipelineFile, modelFile } from './paths.ts';

async function schemaModules(ir: ProjectIR, files: Map<string, string>, diagnostics: Diagnostic[]): Promise<Map<string, SchemaTypeRef>> {
  const gen = ir.settings.generatedDir;
  const schemas = new Map<string, Record<string, unknown>>();
  /** Who uses each schema, for a diagnostic when it cannot become a type. */
  const users = new Map<string, { dataset: string; location?: SourceLocation }>();
  for (const d of Object.values(ir.datasets)) {
    if (!d.schema || !d.schemaJson) continue;
    schemas.set(d.schema, d.schemaJson);
    if (!users.has(d.schema)) users.set(d.schema, { dataset: d.name, location: d.location });
  }
  for (const p of Object.values(ir.pipelines)) {
    for (const [rel, json, field] of [[p.model?.inputSchema, p.model?.inputSchemaJson, 'input_schema'], [p.model?.outputSchema, p.model?.outputSchemaJson, 'output_schema']] as const) {
      if (!rel || !json) continue;
      schemas.set(rel, json);
      if (!users.has(rel)) users.set(rel, { dataset: `model.${field}`, location: p.model!.location });
    }
  }
  const refs = new Map<string, SchemaTypeRef>();
  const usedFiles = new Set<string>();
  for (const [rel, json] of [...schemas.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const base = path.posix.basename(rel).replace(/\.schema\.json$|\.json$/i, '');
    const tName = typeName(base);
    let fileBase = tName.replace(/^./, (c) => c.toLowerCase());
    for (let i = 2; usedFiles.has(fileBase); i++) fileBase = `${tName.replace(/^./, (c) => c.toLowerCase())}${i}`;
    usedFiles.add(fileBase);
    const out = `${gen}/schemas/${fileBase}.ts`;
    let body: string;
    try {
      body = await schemaToTypeScript(json, tName);
    } catch (e) {
      // json-schema-to-typescript fails on some schemas ajv accepts (a property named hasOwnProperty, a $ref it
      // reads as a URL): a located diagnostic, not a crash.
      const user = users.get(rel)!;
      const reason = `it cannot be turned into a TypeScript type (${(e as Error).message.split('\n')[0]})`;
      diagnostics.push(diag('KILN1012', { path: rel, dataset: user.dataset, reason }, user.location));
      body = `export type ${tName} = unknown;\n`;
    }
    files.set(out, `// ${GENERATED_HEADER} from ${commentText(rel)}; do not edit; run \`kiln compile\`\n\n${body}`);
    refs.set(rel, { path: lit(`./schemas/${fileBase}.ts`), typeName: tName, alias: `Schema_${fileBase}` });
  }
  return refs;
}

/** The body of `interface Parameters`: an object type even when there are no parameters (not `Record<...>`). */
function parametersBody(values: ProjectIR['parameters']['values']): string {
  return Object.keys(values).length === 0 ? '{}' : parameterType(values);
}

export async function compile(ir: ProjectIR): Promise<CompileOutput> {
  const gen = ir.settings.generatedDir;
  const files = new Map<string, string>();
  const pipelines = Object.values(ir.pipelines).sort((a, b) => (a.name < b.name ? -1 : 1));
  const diagnostics: Diagnostic[] = [];
  const schemaTypes = await schemaModules(ir, files, diagnostics);

  const paramFiles = [...new Set(Object.values(ir.parameters.locations).map((l) => l.file))].sort();
  files.set(`${gen}/parameters.ts`, render('parameters', { sourceFiles: commentText(paramFiles.join(', ') || 'no parameters files'), body: parametersBody(ir.parameters.values) }));

  const allModules = moduleAliases(pipelines.flatMap((p) => p.nodes.map((n) => n.func.module)));
  const schemaImports = [...schemaTypes.values()].sort((a, b) => (a.alias < b.alias ? -1 : 1));
  files.set(
    `${gen}/datasets.ts`,
    render('datasets', {
      projectLit: commentText(ir.settings.name),
      imports: importsView(gen, allModules),
      schemaImports,
      datasets: datasetTypes(ir, allModules, schemaTypes),
    }),
  );

  const pipelineModules: Record<string, string> = {};
  const modelModules: Record<string, string> = {};
  for (const p of pipelines) {
    const out = pipelineFile(gen, p.name);
    files.set(out, renderPipeline(ir, p));
    pipelineModules[p.name] = out;
    if (p.model) {
      const mout = modelFile(gen, p.name);
      files.set(mout, renderModel(ir, p, schemaTypes));
      modelModules[p.model.name] = mout;
    }
  }
  files.set(
    `${gen}/index.ts`,
    render('index', {
      projectLit: commentText(ir.settings.name),
      pipelines: Object.entries(pipelineModules).map(([name, f]) => ({ nameLit: lit(name), path: importPath(gen, f) })),
      models: Object.entries(modelModules).map(([name, f]) => ({ nameLit: lit(name), path: importPath(gen, f) })),
    }),
  );
  return { files, diagnostics, pipelineModules, modelModules };
}

function renderPipeline(ir: ProjectIR, p: PipelineIR): string {
  const aliases = moduleAliases(p.nodes.map((n) => n.func.module));
  return render('pipeline', {
    sourceFile: commentText(p.file),
    nameLit: lit(p.name),
    imports: importsView(ir.settings.generatedDir, aliases),
    datasetsType: 'Datasets',
    nodes: p.nodes.map((n) => nodeView(n, aliases.get(n.func.module)!, ir.datasets, 'Datasets')),
  });
}

function renderModel(ir: ProjectIR, p: PipelineIR, schemaTypes: Map<string, SchemaTypeRef>): string {
  const m = p.model!;
  const nodes = p.nodes.filter((n) => m.nodes.includes(n.name));
  const aliases = moduleAliases(nodes.map((n) => n.func.module));
  const schemaRef = m.inputSchema ? schemaTypes.get(m.inputSchema) : undefined;
  return render('model', {
    sourceFile: commentText(p.file),
    modelLit: lit(m.name),
    pipelineLit: lit(p.name),
    inputLit: lit(m.input),
    outputLit: lit(m.output),
    fittedState: m.fittedState.map(lit),
    parameters: m.parameters.map(lit),
    imports: importsView(ir.settings.generatedDir, aliases),
    inputType: schemaRef ? { import: schemaRef.path, typeName: schemaRef.typeName, expr: null } : { import: null, typeName: null, expr: `Datasets[${lit(m.input)}] extends Array<infer R> ? R : unknown` },
    datasetsType: 'ModelDatasets',
    nodes: nodes.map((n) => nodeView(n, aliases.get(n.func.module)!, ir.datasets, 'ModelDatasets')),
  });
}
