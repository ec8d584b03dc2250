// The contract between a loaded inference artifact (src/artifact/) and the things that serve it (HTTP, batch files).

/** What the artifact's manifest tells a server about the model; the artifact may carry more keys. */
export interface PredictorManifest {
  model: string;
  run_id: string;
  kiln_version: string;
  /** JSON Schema of one business object (one record) entering inference. */
  input_schema: object;
  output_schema?: object;
  [k: string]: unknown;
}

export interface Predictor {
  manifest: PredictorManifest;
  /** Validates and predicts a batch; outputs aligned with inputs. */
  predict(records: unknown[]): Promise<unknown[]>;
  /** Validation only: null when the record is valid, else a message naming the field (e.g. "/text: must be string"). */
  validate(record: unknown): string | null;
}
