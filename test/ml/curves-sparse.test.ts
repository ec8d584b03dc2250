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

  it('keeps the legend and the mark\'s label above every curve, and names the lines training and validation', () => {
    // Accuracy climbs to the top of its panel, where a legend inside the plot hid it.
    const svg = renderCurves(history, { markEpoch: 3, markLabel: 'best val_loss: epoch 3, weights kept' });
    const panels = svg.split('<g class="panel"').slice(1);
    expect(panels).toHaveLength(2);
    for (const panel of panels) {
      const ys = (re: RegExp) => [...panel.matchAll(re)].map((m) => Number(m[1]));
      const highestPoint = Math.min(...ys(/<circle cx="[^"]+" cy="([^"]+)"/g));
      const legend = [...panel.matchAll(/<g class="legend">.*?<\/g>/g)].map((m) => m[0]);
      expect(legend.map((l) => />([^<]+)<\/text>/.exec(l)![1])).toEqual(['training', 'validation']);
      const legendYs = legend.flatMap((l) => [...l.matchAll(/ y\d?="([^"]+)"/g)].map((m) => Number(m[1])));
      expect(Math.max(...legendYs)).toBeLessThan(highestPoint - 5);
      const mark = /<text class="mark" x="[^"]+" y="([^"]+)"[^>]*>([^<]+)<\/text>/.exec(panel)!;
      expect(mark[2]).toBe('best val_loss: epoch 3, weights kept');
      expect(Number(mark[1])).toBeLessThan(highestPoint - 5);
      // The label sits in its own row, under the legend's.
      expect(Number(mark[1])).toBeGreaterThan(Math.max(...legendYs));
    }
    expect(renderCurves({ loss: [1, 0.5] }, { markEpoch: 1 })).toContain('>epoch 1</text>');
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
