// The plain (non-TTY) run log: a node skipped from the cache is never announced as "running".
import { describe, expect, it } from 'vitest';
import { plainReporter } from '../../src/runtime/progress.ts';

describe('plainReporter', () => {
  it('announces a node as running only when it runs; a cached one gets one "skipped" line', () => {
    let out = '';
    const r = plainReporter((s) => {
      out += s;
    });
    r.nodeStart(1, 2, 'split');
    r.nodeEnd('split', 'cached', 3);
    r.nodeStart(2, 2, 'train');
    r.nodeRunning!('train');
    r.nodeProgress('train', 5, 10);
    r.nodeEnd('train', 'done', 1500);
    expect(out.split('\n')).toEqual(['[1/2] split: skipped, unchanged (restored from cache) in 3.0ms', '[2/2] train: running', '  train: 5/10 ', '  train: done in 1.50s', '']);
  });

  it('announces a node that logs before the runner says it runs (a hook, a load), once', () => {
    let out = '';
    const r = plainReporter((s) => {
      out += s;
    });
    r.nodeStart(1, 1, 'fit');
    r.nodeLog('fit', 'loading');
    r.nodeRunning!('fit');
    r.nodeEnd('fit', 'failed', 2);
    expect(out.split('\n')).toEqual(['[1/1] fit: running', '  fit: loading', '  fit: failed in 2.0ms', '']);
  });
});
