// generated from schema/catalog.schema.json by scripts/gen-types.ts; do not edit; run `npm run gen:types`

/**
 * The data catalog: every dataset that is loaded from or saved to somewhere. Datasets used by pipelines but absent here are in-memory intermediates.
 */
export interface Catalog {
  [k: string]: CatalogEntry;
}
/**
 * How a dataset is stored.
 */
export interface CatalogEntry {
  /**
   * Dataset type: memory, json, jsonl (one JSON record per line), csv, text, binary, partitioned (a folder of files loaded as one dataset), tfjs_model (a TensorFlow.js LayersModel folder), metrics (values recorded with the run).
   */
  type: 'memory' | 'json' | 'jsonl' | 'csv' | 'text' | 'binary' | 'partitioned' | 'tfjs_model' | 'metrics';
  /**
   * File (or folder, for partitioned and tfjs_model) relative to the project root.
   */
  path?: string;
  /**
   * Save every run's output under a new version folder (<path>/<version>/<file>); loads take the latest, or the one pinned with `kiln run --load-version name:version`.
   */
  versioned?: boolean;
  /**
   * JSON Schema of one record (jsonl, csv, partitioned) or of the whole value (json, memory), relative to this catalog file. Records are validated on load, and the schema becomes the dataset's TypeScript type.
   */
  schema?: string;
  /**
   * What the dataset holds, for people.
   */
  description?: string;
  /**
   * Options of the dataset type: csv {delimiter, header}; json {indent}; partitioned {dataset: type of each partition, suffix}; metrics {prefix}.
   */
  options?: {
    /**
     * csv: field delimiter (default ',').
     */
    delimiter?: string;
    /**
     * csv: first row holds the column names (default true).
     */
    header?: boolean;
    /**
     * json: indentation of saved files (default 2; 0 for compact).
     */
    indent?: number;
    /**
     * partitioned: dataset type of each partition file.
     */
    dataset?: 'json' | 'jsonl' | 'csv' | 'text' | 'binary';
    /**
     * partitioned: only files ending with this suffix are partitions (e.g. .json).
     */
    suffix?: string;
    /**
     * metrics: prefix added to every metric name recorded with the run.
     */
    prefix?: string;
  };
}
