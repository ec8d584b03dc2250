// kiln-ml/ml: what pipeline code uses to train with TensorFlow.js the kiln way (seeded, tracked, backend-aware).
export { selectBackend, ensureBackend, activeBackend, describeLoadFailure, BACKENDS, type BackendName, type BackendRequest, type BackendSelection, type SelectOptions, type SkippedBackend } from './backend.ts';
export { createRandom, shuffle, permutation, stratifiedSplit, stratifiedSplitIndices, type Random, type Seed, type SplitIndices } from './random.ts';
export { fitModel, type FitOptions, type FitResult, type EarlyStopping } from './train.ts';
export { csrRows, tensorRows, densifyRows, validateCsr, type CsrMatrix, type RowSource } from './sparse.ts';
export { renderCurves, niceTicks, type CurvesOptions } from './curves.ts';
export { weightsFingerprint } from './weights.ts';
export { invalidParameter, unknownValue, rowCountMismatch, featureWidthMismatch } from './errors.ts';
