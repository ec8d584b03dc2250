#!/usr/bin/env node
// Entry point: registers the TypeScript loader (kiln and user node functions are TypeScript) and runs the CLI.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
