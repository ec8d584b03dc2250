// The training-curves SVG and the sparse-row helpers.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { csrRows, densifyRows, niceTicks, renderCurves, validateCsr } from '../../src/ml/index.ts';
import { isKilnError } from '../../src/diagnostics/index.ts';

describe('renderCurves', () => {
  const history = { loss: [0.9, 0.5, 0.3, 0.25], acc: [0.6, 0.8, 0.9, 0.92], val_loss: [0.8, 0.45, 0.35, 0.4], val_acc: [0.62, 0.79, 0.88, 0.87] };

  it('draws one panel per metric with the training and validation lines, and marks an epoch', () => {
    const svg = renderCurves(history, { title: 'Spam <filter> & co', markEpoch: 3 });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect([...svg.matchAll(/data-metric="([^"]+)"/g)].map((m) => m[1])).toEqual(['loss', 'acc']);
    expect(svg.match(/<polyline /g)).toHaveLength(4);
    expect(svg.match(/<circle /g)).toHaveLength(16);
    expect(svg).toContain('Spam &lt;filter&gt; &amp; co');
    expect(svg.match(/stroke-dasharray/g)).toHaveLength(2);
    // Same input, same bytes: the file can be content-addressed.
    expect(renderCurves(history, { title: 'Spam <filter> & co', markEpoch: 3 })).toBe(svg);
  });

  it('places points by value: a falling loss goes down the image (larger y)', () => {
    const svg = renderCurves({ loss: [1, 0.5, 0] });
    const points = /points="([^"]+)"/.exec(svg)![1].split(' ').map((p) => p.split(',').map(Number));
    expect(points.map(([x]) => x)).toEqual([...points.map(([x]) => x)].sort((a, b) => a - b));
    expect(points[0][1]).toBeLessThan(points[1][1]);
    expect(points[1][1]).toBeLessThan(points[2][1]);
  });

  it('breaks a line at non-finite values and copes with no data', () => {
    const svg = renderCurves({ loss: [1, 0.8, Number.NaN, 0.5, 0.4] });
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(renderCurves({})).toContain('no metrics recorded');
    expect(renderCurves({ loss: [0.5] })).toContain('<circle ');
  });

  it.each([
    [0, 1, [0, 0.2, 0.4, 0.6, 0.8, 1]],
    [0.013, 0.92, [0, 0.2, 0.4, 0.6, 0.8, 1]],
    [1, 4, [1, 2, 3, 4]],
    [2, 2, [1.8, 1.9, 2, 2.1, 2.2]],
  ])('niceTicks(%s, %s)', (lo, hi, want) => {
    expect(niceTicks(lo, hi)).toEqual(want);
  });
});

describe('sparse rows', () => {
  const m = { rows: 3, columns: 4, indptr: [0, 2, 2, 3], indices: [0, 3, 1], values: [1.5, -2, 7] };

  it('densifies chosen rows in the order asked', () => {
    expect(Array.from(densifyRows(m, [2, 0, 1]))).toEqual([0, 7, 0, 0, 1.5, 0, 0, -2, 0, 0, 0, 0]);
    const t = csrRows(m).batch([1, 2]);
    expect(t.shape).toEqual([2, 4]);
    expect(Array.from(t.dataSync())).toEqual([0, 0, 0, 0, 0, 7, 0, 0]);
    tf.dispose(t);
  });

  it.each([
    [{ ...m, indptr: [0, 2, 3] }, 'CSR data with rows + 1 = 4 row pointers'],
    [{ ...m, indices: [0, 4, 1] }, 'CSR data with column indices in [0, 4)'],
    [{ ...m, indptr: [0, 2, 1, 3] }, 'CSR data with non-decreasing row pointers'],
    [{ ...m, values: [1] }, 'CSR data with 3 indices and values'],
  ])('rejects a broken matrix with KILN5003 (%#)', (broken, expected) => {
    try {
      validateCsr(broken);
      throw new Error('expected a KilnError');
    } catch (e) {
      expect(isKilnError(e) && e.diagnostics[0].code).toBe('KILN5003');
      expect((e as Error).message).toContain(`feature matrix must be ${expected}`);
    }
  });
});
