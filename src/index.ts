// kiln's library API: what node code and applications import from 'kiln-ml'.
export { nodeContext, type NodeContext, type ProgressInfo } from './runtime/context.ts';
export type { Hooks, RunInfo, RunStatus, NodeExecution } from './runtime/hooks.ts';
export { KilnError, isKilnError } from './diagnostics/diagnostic.ts';
export type { Diagnostic, SourceLocation } from './diagnostics/types.ts';
export { loadArtifact, type LoadedArtifact, type LoadOptions } from './artifact/load.ts';
export type { ArtifactManifest } from './artifact/manifest.ts';
export { verifyArtifact } from './artifact/verify.ts';
export type { AnchorOptions } from './artifact/anchor.ts';
export type { Predictor, PredictorManifest } from './serve/predictor.ts';
