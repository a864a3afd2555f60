import { describe, expect, it } from 'vitest';
import { lookbackMs, parseSplitSpec, splitRanges } from '../../../src/export/splits.js';

const M = 60_000;

describe('parseSplitSpec', () => {
  it('reads names and fractions in order', () => {
    expect(parseSplitSpec('train=0.8,validation=0.1,test=0.1')).toEqual([
      { name: 'train', fraction: 0.8 },
      { name: 'validation', fraction: 0.1 },
      { name: 'test', fraction: 0.1 },
    ]);
  });

  it.each([
    ['train=0.8,test=0.1', /add up to 0.9/],
    ['train=0.5,train=0.5', /names a split twice/],
    ['Train=1', /not NAME=FRACTION/],
    ['train=0,test=1', /not NAME=FRACTION/],
    ['train', /not NAME=FRACTION/],
  ])('refuses %s', (spec, message) => {
    expect(() => parseSplitSpec(spec)).toThrow(message);
  });
});

describe('splitRanges', () => {
  const parts = parseSplitSpec('train=0.8,validation=0.1,test=0.1');

  it('cuts at the fractions, aligned down, with the gap before each later split', () => {
    // 1000 minutes: boundaries at 800 and 900 minutes, aligned to 15 minutes → 795, 900.
    const ranges = splitRanges(parts, { fromMs: 0, toMs: 1000 * M }, 5 * M, 15 * M);
    expect(ranges).toEqual([
      { name: 'train', fromMs: 0, toMs: 795 * M },
      { name: 'validation', fromMs: 800 * M, toMs: 900 * M },
      { name: 'test', fromMs: 905 * M, toMs: 1000 * M },
    ]);
  });

  it('refuses a split the gap leaves empty', () => {
    expect(() => splitRanges(parts, { fromMs: 0, toMs: 60 * M }, 10 * M, M)).toThrow(
      /Split "validation" would hold no time/,
    );
  });
});

describe('lookbackMs', () => {
  it.each([
    ['up', 0],
    ['rate(http_requests_total[5m])', 5 * M],
    ['sum(rate(a[1m])) / sum(rate(b[1h30m]))', 90 * M],
    ['max_over_time(rate(a[5m])[1h:1m])', 60 * M],
    ['rate(a[5m] offset 10m)', 15 * M],
  ])('%s reads back %i ms', (expr, ms) => {
    expect(lookbackMs(expr)).toBe(ms);
  });
});
