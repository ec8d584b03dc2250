// The catalog's dataset types: `createDataset` turns a catalog entry into the object the runner loads and saves.
import type { DatasetIR, DatasetType } from '../../ir/types.ts';
import { createBinaryDataset } from './binary.ts';
import { createCsvDataset } from './csv.ts';
import { createJsonDataset } from './json.ts';
import { createJsonlDataset } from './jsonl.ts';
import { createMemoryDataset } from './memory.ts';
import { createMetricsDataset } from './metrics.ts';
import { createPartitionedDataset } from './partitioned.ts';
import { createTfjsModelDataset } from './tfjs_model.ts';
import { createTextDataset } from './text.ts';
import type { Dataset, DatasetEnv, DatasetFactory } from './types.ts';

export type { Dataset, DatasetDescription, DatasetEnv, DatasetFactory } from './types.ts';
export { newSaveVersion } from './location.ts';
export { MemoryDataset } from './memory.ts';
export { JsonDataset } from './json.ts';
export { JsonlDataset } from './jsonl.ts';
export { CsvDataset } from './csv.ts';
export { TextDataset } from './text.ts';
export { BinaryDataset } from './binary.ts';
export { PartitionedDataset, PARTITION_TYPES, type PartitionLoaders, type PartitionValues } from './partitioned.ts';
export { TfjsModelDataset, MODEL_FILE, WEIGHTS_FILE } from './tfjs_model.ts';
export { MetricsDataset, type Metrics } from './metrics.ts';

const factories: Record<DatasetType, DatasetFactory> = {
  memory: createMemoryDataset,
  json: createJsonDataset,
  jsonl: createJsonlDataset,
  csv: createCsvDataset,
  text: createTextDataset,
  binary: createBinaryDataset,
  partitioned: createPartitionedDataset,
  tfjs_model: createTfjsModelDataset,
  metrics: createMetricsDataset,
};

/**
 * The dataset for a catalog entry (or an implicit in-memory intermediate). Checks the entry's options and path
 * now, so that a bad entry fails before the run starts; throws KilnError for user mistakes.
 */
export function createDataset(entry: DatasetIR, env: DatasetEnv): Dataset<unknown> {
  const factory = Object.hasOwn(factories, entry.type) ? factories[entry.type] : undefined;
  if (!factory) throw new Error(`internal error: no dataset type '${String(entry.type)}' (the config stage should have refused it); this is a bug in kiln, please report it`);
  return factory(entry, env);
}
