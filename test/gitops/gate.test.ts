// The publish gate: given the run's metrics, the thresholds and the version better_than names, want the diagnostics.
import { describe, expect, it } from 'vitest';
import { betterDirection, checkGate, compare, type GateInput } from '../../src/gitops/gate.ts';
import type { ModelGateIR } from '../../src/ir/types.ts';

const gate = (metrics: Record<string, string>, betterThan: string | null = 'production'): ModelGateIR => ({
  metrics: Object.fromEntries(Object.entries(metrics).map(([k, v]) => {
    const [, op, value] = /^(>=|<=|==|!=|>|<)\s*(\S+)$/.exec(v)!;
    return [k, { op: op as ModelGateIR['metrics'][string]['op'], value: Number(value) }];
  })),
  betterThan,
});

const input = (over: Partial<GateInput>): GateInput => ({ model: 'm', run: 'r1', gate: gate({ accuracy: '>= 0.9', loss: '<= 0.5' }), metrics: { accuracy: 0.95, loss: 0.3 }, baseline: null, ...over });
const codes = (i: GateInput) => checkGate(i).diagnostics.map((d) => d.code);

describe('gate', () => {
  const table: Array<[name: string, given: Partial<GateInput>, want: string[]]> = [
    ['passes its thresholds with no baseline (alias unset)', {}, []],
    ['no gate at all', { gate: null, metrics: {} }, []],
    ['a threshold fails', { metrics: { accuracy: 0.85, loss: 0.3 } }, ['KILN7009']],
    ['a lower-is-better threshold fails', { metrics: { accuracy: 0.95, loss: 0.7 } }, ['KILN7009']],
    ['NaN never passes', { metrics: { accuracy: NaN, loss: 0.3 } }, ['KILN7009']],
    ['a gated metric the run did not record', { metrics: { loss: 0.3 } }, ['KILN7020']],
    ['as good as production on every gated metric', { baseline: { alias: 'production', version: 1, metrics: { accuracy: 0.95, loss: 0.3 } } }, []],
    ['worse than production, higher is better', { baseline: { alias: 'production', version: 1, metrics: { accuracy: 0.96, loss: 0.3 } } }, ['KILN7010']],
    ['worse than production, lower is better', { baseline: { alias: 'production', version: 1, metrics: { accuracy: 0.9, loss: 0.2 } } }, ['KILN7010']],
    ['a metric production never recorded is judged by its threshold only', { baseline: { alias: 'production', version: 1, metrics: { loss: 0.3 } } }, []],
    ['both the threshold and production fail: both said', { metrics: { accuracy: 0.5, loss: 0.3 }, baseline: { alias: 'production', version: 2, metrics: { accuracy: 0.9, loss: 0.3 } } }, ['KILN7009', 'KILN7010']],
    ['== and != have no better direction', { gate: gate({ classes: '== 2' }), metrics: { classes: 2 }, baseline: { alias: 'production', version: 1, metrics: { classes: 3 } } }, []],
  ];
  for (const [name, given, want] of table) it(name, () => expect(codes(input(given))).toEqual(want));

  it('says what passed, for the publish summary, and what failed, with numbers', () => {
    const ok = checkGate(input({ baseline: { alias: 'production', version: 3, metrics: { accuracy: 0.93, loss: 0.4 } } }));
    expect(ok.passed).toEqual(['accuracy 0.95 >= 0.9', 'accuracy 0.95 >= 0.93 of production (v3)', 'loss 0.3 <= 0.5', 'loss 0.3 <= 0.4 of production (v3)']);
    const bad = checkGate(input({ metrics: { acuracy: 0.95, loss: 0.6 } }));
    expect(bad.diagnostics.map((d) => d.message)).toEqual([
      "cannot publish 'm': run r1 recorded no metric 'accuracy', which the gate needs. Did you mean 'acuracy'?",
      "cannot publish 'm': the gate fails: loss is 0.6, which is not <= 0.5",
    ]);
  });

  it('compares with each operator', () => {
    expect([compare(1, '>=', 1), compare(1, '>', 1), compare(1, '<=', 1), compare(1, '<', 1), compare(1, '==', 1), compare(1, '!=', 1)]).toEqual([true, false, true, false, true, false]);
    expect([betterDirection('>'), betterDirection('<='), betterDirection('!=')]).toEqual(['higher', 'lower', null]);
  });
});
