// KILN5xxx: TensorFlow.js backends, training and the ML building blocks (src/ml/, pipeline node helpers).
import type { CodeDefinition } from '../types.ts';

export const mlCodes = {
  KILN5001: {
    severity: 'error',
    message: "TensorFlow.js backend '{backend}' was requested but is not available: {reason}",
    hint: 'Backends available here: {available}. Request one of those, or `auto` to take the fastest available one.',
  },
  KILN5002: {
    severity: 'error',
    message: "unknown {what} '{value}'.{suggestion}",
    hint: 'Valid values: {allowed}.',
  },
  KILN5003: {
    severity: 'error',
    message: '{what} must be {expected}, but is {actual}',
    hint: 'Change the value (usually a parameter in parameters.yaml) to {expected}.',
  },
  KILN5004: {
    severity: 'error',
    message: '{what}: {left} has {leftCount} rows but {right} has {rightCount}',
    hint: 'Both inputs must describe the same examples in the same order; check that the node is wired to the matching datasets.',
  },
  KILN5005: {
    severity: 'error',
    message: 'training diverged: {metric} became {value} in epoch {epoch}',
    hint: 'Lower the learning rate, check the inputs for NaN or infinite values, or scale the features.',
  },
  KILN5006: {
    severity: 'error',
    message: 'the model cannot be trained: {reason}',
    hint: "Call model.compile({ optimizer, loss }) with a single-output model before training it, for example model.compile({ optimizer: tf.train.adam(1e-3), loss: 'binaryCrossentropy' }).",
  },
  KILN5007: {
    severity: 'error',
    message: 'the features have {actual} columns but the model expects {expected}',
    hint: 'Featurize with the vocabulary the model was trained with; a vocabulary fitted again (or with other options) gives other columns.',
  },
} satisfies Record<string, CodeDefinition>;
