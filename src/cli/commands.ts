// The list of commands, in the order `kiln --help` shows them.
import type { CommandModule } from './main.ts';

export const commands: CommandModule[] = [];
