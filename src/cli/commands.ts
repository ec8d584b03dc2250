// The commands, in the order `kiln --help` shows them. Each is loaded only when it runs (or for --help), so that
// `kiln runs list` does not pay for the TypeScript compiler and `kiln run` does not pay for the HTTP server.
import type { CommandModule } from './main.ts';

export interface CommandEntry {
  name: string;
  load(): Promise<CommandModule>;
}

export const commands: CommandEntry[] = [
  { name: 'validate', load: async () => (await import('./validate.ts')).validateCommand },
  { name: 'compile', load: async () => (await import('./compile.ts')).compileCommand },
  { name: 'run', load: async () => (await import('./run.ts')).runCommand },
  { name: 'runs', load: async () => (await import('./runs.ts')).runsCommand },
  { name: 'gc', load: async () => (await import('./gc.ts')).gcCommand },
  { name: 'package', load: async () => (await import('./package.ts')).packageCommand },
  { name: 'predict', load: async () => (await import('./predict.ts')).predictCommand },
  { name: 'serve', load: async () => (await import('./serve.ts')).serveCommand },
  { name: 'plan', load: async () => (await import('./plan.ts')).planCommand },
  { name: 'report', load: async () => (await import('./report.ts')).reportCommand },
  { name: 'publish', load: async () => (await import('./publish.ts')).publishCommand },
  { name: 'registry', load: async () => (await import('./registry.ts')).registryCommand },
  { name: 'objects', load: async () => (await import('./objects.ts')).objectsCommand },
  { name: 'ui', load: async () => (await import('./ui.ts')).uiCommand },
  { name: 'init', load: async () => (await import('./init.ts')).initCommand },
  { name: 'emit', load: async () => (await import('./emit.ts')).emitCommand },
];
