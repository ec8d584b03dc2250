// The kiln command line: builds the program from one file per command and maps outcomes to exit codes.
// `kiln --version` loads nothing but the version: the parser, the diagnostics catalogue and the commands are loaded
// once a command is to run.
import type { Command } from 'commander';
import type { Io } from './io.ts';
import { kilnVersion } from '../version.ts';

export interface CommandResult {
  code: number;
}

/** Each command file exports a `CommandModule`; its action returns the exit code. */
export interface CommandModule {
  register(program: Command, io: Io, setExit: (code: number | Promise<number>) => void): void;
}

export async function main(argv: string[], given?: Io): Promise<number> {
  const versionOnly = argv.slice(2).length === 1 && (argv[2] === '--version' || argv[2] === '-V');
  if (versionOnly) {
    (given?.out ?? ((s: string) => process.stdout.write(s)))(`${kilnVersion}\n`);
    return 0;
  }
  const [{ Command, CommanderError }, { processIo, handleFailure, EXIT_INTERNAL, EXIT_OK }, { commands }] = await Promise.all([import('commander'), import('./io.ts'), import('./commands.ts')]);
  const io = given ?? processIo();
  const program = new Command();
  let pending: number | Promise<number> = EXIT_OK;
  const setExit = (code: number | Promise<number>) => {
    pending = code;
  };
  program
    .name('kiln')
    .description('Declarative GitOps pipeline compiler for machine learning in TypeScript')
    .version(kilnVersion, '-V, --version', 'print the kiln version')
    .showSuggestionAfterError(true)
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .exitOverride();
  // Load only the command being run; --help (and anything unrecognised) gets all of them.
  const first = argv.slice(2).find((a) => !a.startsWith('-'));
  const wanted = commands.filter((c) => c.name === first);
  for (const c of wanted.length ? wanted : commands) (await c.load()).register(program, io, setExit);
  try {
    await program.parseAsync(argv);
    return await pending;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end through here with exit code 0; bad invocations are exit code 2.
      return e.exitCode === 0 ? EXIT_OK : EXIT_INTERNAL;
    }
    return handleFailure(io, e);
  }
}
