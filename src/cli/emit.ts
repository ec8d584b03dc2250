// `kiln emit argo` and `kiln emit dockerfile`: what a cluster needs to run a pipeline, printed or written to a file.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { CommandModule } from './main.ts';
import { EXIT_OK, EXIT_USER, handleFailure, report, type Io } from './io.ts';
import { isKilnError, KilnError } from '../diagnostics/diagnostic.ts';
import type { Diagnostic } from '../diagnostics/types.ts';
import { addFilterOptions } from './run.ts';
import type { NodeFilter } from '../ir/filter.ts';

interface EmitArgoFlags extends NodeFilter {
  project: string;
  image: string;
  out?: string;
  template?: boolean;
  params?: string[];
}

async function emitArgoAction(io: Io, pipelineName: string | undefined, flags: EmitArgoFlags): Promise<number> {
  const root = path.resolve(io.cwd, flags.project);
  try {
    const [{ analyzeProject }, { choosePipeline }, { filterNodes }, { applyOverrides, splitOverrides }, { emitArgo }] = await Promise.all([
      import('../project.ts'),
      import('../runtime/session.ts'),
      import('../ir/filter.ts'),
      import('../runtime/params.ts'),
      import('../emit/argo.ts'),
    ]);
    const analyzed = await analyzeProject(root);
    if (!analyzed.ok || !analyzed.ir) throw new KilnError(analyzed.diagnostics);
    const ir = analyzed.ir;
    const pipeline = choosePipeline(ir, pipelineName);
    const filter: NodeFilter = { nodes: flags.nodes, fromNodes: flags.fromNodes, toNodes: flags.toNodes, fromInputs: flags.fromInputs, toOutputs: flags.toOutputs, tags: flags.tags, namespaces: flags.namespaces };
    const nodes = filterNodes(pipeline.nodes, filter);
    // The overrides are checked as `kiln run` checks them (known keys, typed values), then carried as given.
    applyOverrides(ir.parameters.values, flags.params ?? []);
    const errors: Diagnostic[] = [];
    const params = splitOverrides(flags.params ?? [], errors).map(({ key, value }) => ({ key, value }));
    if (errors.length) throw new KilnError(errors);
    const text = emitArgo(ir, pipeline, { image: flags.image, nodes, filter, params, template: Boolean(flags.template) });
    if (flags.out) {
      const file = path.resolve(io.cwd, flags.out);
      // Written whole or not at all: a manifest cut short would still parse, and submit a smaller workflow.
      const tmp = `${file}.${process.pid}.tmp`;
      await fs.writeFile(tmp, text);
      await fs.rename(tmp, file);
      io.err(`wrote ${path.relative(io.cwd, file) || file}: ${kindOf(flags)} of pipeline '${pipeline.name}', ${nodes.length} node(s)\n`);
    } else {
      io.out(text);
    }
    return EXIT_OK;
  } catch (e) {
    if (isKilnError(e)) return report(io, e.diagnostics, { root }) || EXIT_USER;
    return handleFailure(io, e);
  }
}

const kindOf = (flags: EmitArgoFlags) => (flags.template ? 'Argo WorkflowTemplate' : 'Argo Workflow');

export const emitCommand: CommandModule = {
  register(program, io, setExit) {
    const emit = program.command('emit').description('print what runs a pipeline elsewhere: an Argo Workflow, the Dockerfile of its image');
    const argo = emit
      .command('argo [pipeline]')
      .description('emit an Argo Workflow running the pipeline on Kubernetes: one task per node (or pod group), all recording one kiln run')
      .requiredOption('--image <image>', 'the container image every task runs (build it from `kiln emit dockerfile`)')
      .option('--project <dir>', 'project root (the folder with kiln.yaml)', '.')
      .option('--out <file>', 'write the manifest to this file instead of stdout')
      .option('--template', 'emit a WorkflowTemplate instead of a Workflow');
    addFilterOptions(argo)
      .option('--params <key=value,...>', 'override parameters as kiln run does; they become workflow parameters, which argo submit -p can change', (v: string, prev: string[] = []) => [...prev, v])
      .action((pipelineName: string | undefined, flags: EmitArgoFlags) => setExit(emitArgoAction(io, pipelineName, flags)));
    emit
      .command('dockerfile')
      .description('print a minimal Dockerfile for the image of kiln emit argo (node:20-slim, npm ci, the project, kiln)')
      .action(() =>
        setExit(
          import('../emit/dockerfile.ts').then((m) => {
            io.out(m.DOCKERFILE);
            return EXIT_OK;
          }),
        ),
      );
  },
};
