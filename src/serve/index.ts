// Serving an inference artifact: the HTTP scoring server (MLflow's protocol), micro-batching, batch prediction.
export type { Predictor, PredictorManifest } from './predictor.ts';
export { createScoringServer, type ScoringServer } from './server.ts';
export { serveUntilSignal, type ServeUntilSignalOptions } from './shutdown.ts';
export { isServingWorker, leavePool, runWorkerPool, serveAsWorker, workerIndex, type WorkerListening, type WorkerPoolOptions, type WorkerPoolResult } from './workers.ts';
export { MicroBatcher, PredictorContractError, WithdrawnError, type BatchSink, type BatcherStats, type Ticket } from './batcher.ts';
export { predictFile, type PredictFileInput, type PredictFileProgress, type PredictFileResult } from './batch.ts';
export { formatProgress } from './progress.ts';
export { defaultBatcherOptions, type BatcherOptions, type PredictFileOptions, type ScoringServerOptions, type ScoringServerOptionsInput } from './options.ts';
export { REQUEST_FORMATS, type RequestFormat } from './protocol.ts';
