// Sparse rows (compressed sparse row form) turned into dense tensors one batch at a time, so that a
// wide bag-of-words matrix never exists densely in memory: only `batch size x columns` floats at once.
import * as tf from '@tensorflow/tfjs';
import { invalidParameter } from './errors.ts';

/** A matrix in CSR form: the entries of row r are indices/values[indptr[r] .. indptr[r + 1]). Plain JSON data. */
export interface CsrMatrix {
  rows: number;
  columns: number;
  indptr: ArrayLike<number>;
  indices: ArrayLike<number>;
  values: ArrayLike<number>;
}

/** Rows a model can be fed from: a source that makes a dense [n, columns] tensor for any n of its rows. */
export interface RowSource {
  readonly rows: number;
  readonly columns: number;
  /** A dense float32 tensor of the given rows, in the given order (rows on the first axis). The caller disposes it. */
  batch(rowIndices: ArrayLike<number>): tf.Tensor;
}

/** Writes the given rows of `m` densely into `out` (zeroed first), one row after the other. */
export function densifyRows(m: CsrMatrix, rowIndices: ArrayLike<number>, out = new Float32Array(rowIndices.length * m.columns)): Float32Array {
  out.fill(0, 0, rowIndices.length * m.columns);
  const { indptr, indices, values, columns } = m;
  for (let i = 0; i < rowIndices.length; i++) {
    const r = rowIndices[i];
    const base = i * columns;
    for (let k = indptr[r], end = indptr[r + 1]; k < end; k++) out[base + indices[k]] += values[k];
  }
  return out;
}

/** Checks the CSR invariants that densifyRows relies on; a broken matrix is a KILN5003 error naming `what`. */
export function validateCsr(m: CsrMatrix, what = 'feature matrix'): void {
  const bad = (expected: string, actual: string) => invalidParameter(what, expected, actual);
  if (!Number.isInteger(m.rows) || m.rows < 0 || !Number.isInteger(m.columns) || m.columns < 0) throw bad('a matrix with whole, non-negative rows and columns', `${m.rows} x ${m.columns}`);
  if (m.indptr.length !== m.rows + 1) throw bad(`CSR data with rows + 1 = ${m.rows + 1} row pointers`, `${m.indptr.length} row pointers`);
  const nnz = m.indptr[m.rows];
  if (m.indptr[0] !== 0 || m.indices.length !== nnz || m.values.length !== nnz) throw bad(`CSR data with ${nnz} indices and values`, `${m.indices.length} indices and ${m.values.length} values`);
  for (let r = 0; r < m.rows; r++) if (m.indptr[r + 1] < m.indptr[r]) throw bad('CSR data with non-decreasing row pointers', `a decrease at row ${r}`);
  for (let k = 0; k < nnz; k++) {
    const c = m.indices[k];
    if (!(c >= 0 && c < m.columns && Number.isInteger(c))) throw bad(`CSR data with column indices in [0, ${m.columns})`, `index ${c}`);
  }
}

/** A RowSource over a CSR matrix, reusing one buffer per batch size. */
export function csrRows(m: CsrMatrix): RowSource {
  validateCsr(m);
  let buffer = new Float32Array(0);
  return {
    rows: m.rows,
    columns: m.columns,
    batch(rowIndices) {
      const size = rowIndices.length * m.columns;
      if (buffer.length < size) buffer = new Float32Array(size);
      densifyRows(m, rowIndices, buffer);
      // tf.tensor copies the data, so the buffer can be reused for the next batch.
      return tf.tensor2d(buffer.subarray(0, size), [rowIndices.length, m.columns], 'float32');
    },
  };
}

/** A RowSource over a dense tensor of rank 2 or more (rows along the first axis). */
export function tensorRows(x: tf.Tensor): RowSource {
  return {
    rows: x.shape[0],
    columns: x.shape.slice(1).reduce((a, b) => a * b, 1),
    batch(rowIndices) {
      return tf.tidy(() => tf.gather(x, tf.tensor1d(Int32Array.from(rowIndices), 'int32')));
    },
  };
}
