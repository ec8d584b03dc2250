// The list of commands, in the order `kiln --help` shows them.
import type { CommandModule } from './main.ts';
import { validateCommand } from './validate.ts';
import { compileCommand } from './compile.ts';
import { runCommand } from './run.ts';
import { packageCommand } from './package.ts';
import { runsCommand } from './runs.ts';

export const commands: CommandModule[] = [validateCommand, compileCommand, runCommand, runsCommand, packageCommand];
