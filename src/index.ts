// kiln's library API.
export { nodeContext, type NodeContext } from './runtime/context.ts';
export type { Hooks, RunInfo, RunStatus } from './runtime/hooks.ts';
export { KilnError, type Diagnostic } from './diagnostics/index.ts';
