import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ColumnStatsAccumulator,
  ColumnStatsSet,
  statsSplit,
} from '../../../src/export/column-stats.js';

/** The textbook two-pass figures over all values at once, as the reference. */
function reference(values: number[]) {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const ss = values.reduce((a, v) => a + (v - mean) ** 2, 0);
  return {
    count: n,
    mean,
    std: Math.sqrt(ss / (n - 1)),
    min: Math.min(...values),
    max: Math.max(...values),
  };
}

const close = (a: number | null, b: number) =>
  expect(Math.abs(a! - b)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(b)));

describe('ColumnStatsAccumulator', () => {
  it('gives the two-pass figures whatever the batches', () => {
    const value = fc.double({ min: -1e6, max: 1e6, noNaN: true });
    fc.assert(
      fc.property(
        fc.array(value, { minLength: 2, maxLength: 300 }),
        fc.array(fc.nat(40), { maxLength: 10 }),
        (values, cuts) => {
          const acc = new ColumnStatsAccumulator();
          let at = 0;
          for (const cut of [...cuts, values.length]) {
            const end = Math.min(values.length, at + cut);
            acc.add(Float64Array.from(values.slice(at, end)));
            at = end;
          }
          const got = acc.result();
          const want = reference(values);
          expect(got.count).toBe(want.count);
          expect([got.min, got.max]).toEqual([want.min, want.max]);
          close(got.mean, want.mean);
          close(got.std, want.std);
        },
      ),
    );
  });

  it('keeps the spread of values far from zero (a running sum of squares loses it)', () => {
    const acc = new ColumnStatsAccumulator();
    for (let b = 0; b < 100; b++) {
      acc.add(Float64Array.from({ length: 1000 }, (_, i) => 1e9 + ((b * 1000 + i) % 2)));
    }
    const { mean, std } = acc.result();
    expect(mean).toBe(1e9 + 0.5);
    close(std, Math.sqrt((100_000 * 0.25) / 99_999));
  });

  it('leaves out nulls and non-finite values', () => {
    const acc = new ColumnStatsAccumulator();
    acc.add(Float64Array.of(1, 100, NaN, 3, Infinity, -Infinity), Uint8Array.of(1, 0, 1, 1, 1, 1));
    expect(acc.result()).toEqual({ count: 2, mean: 2, std: Math.SQRT2, min: 1, max: 3 });
  });

  it('has no figures without values, and no std for one value', () => {
    const acc = new ColumnStatsAccumulator();
    expect(acc.result()).toEqual({ count: 0, mean: null, std: null, min: null, max: null });
    acc.add(Float64Array.of(NaN));
    acc.add(Float64Array.of(-4.5));
    expect(acc.result()).toEqual({ count: 1, mean: -4.5, std: null, min: -4.5, max: -4.5 });
  });
});

describe('ColumnStatsSet', () => {
  it('keeps one accumulator per column, listed by name', () => {
    const set = new ColumnStatsSet();
    set.add('value_min', Float64Array.of(1, 2));
    set.add('value_max', Float64Array.of(5));
    set.add('value_min', Float64Array.of(3));
    const result = set.result();
    expect(Object.keys(result)).toEqual(['value_max', 'value_min']);
    expect(result.value_min).toEqual({ count: 3, mean: 2, std: 1, min: 1, max: 3 });
  });
});

describe('statsSplit', () => {
  it('is the split named train, else the first, and none without splits', () => {
    expect(statsSplit(undefined)).toBeUndefined();
    expect(statsSplit([{ name: 'validation' }, { name: 'train' }])).toBe('train');
    expect(statsSplit([{ name: 'fit' }, { name: 'holdout' }])).toBe('fit');
  });
});
