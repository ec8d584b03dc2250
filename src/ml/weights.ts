// A fingerprint of a model's weights: equal fingerprints mean bit-identical weights, in the same order and shapes.
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';

/**
 * SHA-256 (hex) over every weight's dtype, shape and raw bytes, in the model's weight order. Names are left
 * out: TensorFlow.js numbers auto-named layers per process (dense_Dense1, dense_Dense2, ...), so two equal
 * models built one after the other in the same process have different names.
 */
export function weightsFingerprint(model: tf.LayersModel): string {
  const hash = createHash('sha256');
  for (const w of model.weights) {
    const value = w.read();
    hash.update(`${value.dtype}|${value.shape.join('x')}\n`);
    const data = value.dataSync();
    hash.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  return hash.digest('hex');
}
