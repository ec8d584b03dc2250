// The dataset a name stands for in a resolved project: its catalog entry, or an implicit in-memory intermediate.
import type { DatasetIR, ProjectIR } from './types.ts';

export function datasetOf(ir: ProjectIR, name: string): DatasetIR {
  return ir.datasets[name] ?? { name, type: 'memory', declared: false, versioned: false, options: {} };
}
