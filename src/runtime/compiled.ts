// The shape of a generated pipeline module, as the runner sees it (see src/codegen/templates/).

export interface CompiledNode {
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  run(d: Record<string, unknown>): Promise<Record<string, unknown>>;
}

export interface CompiledPipelineModule {
  readonly pipeline: string;
  readonly order: readonly string[];
  readonly nodes: Readonly<Record<string, CompiledNode>>;
}

export interface CompiledModelModule {
  readonly model: {
    readonly name: string;
    readonly pipeline: string;
    readonly input: string;
    readonly output: string;
    readonly fittedState: readonly string[];
    readonly parameters: readonly string[];
    readonly order: readonly string[];
  };
  readonly nodes: Readonly<Record<string, CompiledNode>>;
}
