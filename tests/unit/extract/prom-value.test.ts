import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decimalToDouble, parsePromValue } from '../../../src/extract/prom-value.js';

describe('parsePromValue', () => {
  it.each([
    ['1', 1],
    ['0', 0],
    ['-0.5', -0.5],
    ['12345.678', 12345.678],
    ['1e+21', 1e21],
    ['1e-07', 1e-7],
    ['-1.2e+78', -1.2e78],
    ['0.30000000000000004', 0.30000000000000004],
    ['NaN', NaN],
    ['+Inf', Infinity],
    ['-Inf', -Infinity],
    ['Inf', Infinity],
    ['inf', Infinity],
    ['-inf', -Infinity],
    ['+inf', Infinity],
    ['INF', Infinity],
    ['Infinity', Infinity],
    ['-infinity', -Infinity],
    ['nan', NaN],
    ['-NaN', NaN],
    ['.5', 0.5],
    ['5.', 5],
    ['+3', 3],
  ])('%s → %d', (text, expected) => {
    expect(parsePromValue(text)).toBe(expected);
  });

  it('keeps negative zero', () => {
    expect(Object.is(parsePromValue('-0'), -0)).toBe(true);
  });

  it.each([
    '',
    ' 1',
    '1 ',
    '0x10',
    'one',
    '1e',
    '--1',
    '1.2.3',
    'Infinit',
    'NaNa',
    '1_000',
    '.',
    '+',
    'e5',
  ])('refuses %j', (text) => {
    expect(() => parsePromValue(text)).toThrow(/Invalid sample value/);
  });

  it('parses what Go and JavaScript print for any double', () => {
    fc.assert(
      fc.property(fc.double(), (v) => {
        const text = Number.isNaN(v)
          ? 'NaN'
          : v === Infinity
            ? '+Inf'
            : v === -Infinity
              ? '-Inf'
              : Object.is(v, -0)
                ? '-0'
                : String(v);
        expect(Object.is(parsePromValue(text), v)).toBe(true);
      }),
    );
  });
});

/** Splits a plain decimal the way the decoder does, or undefined when it would not use the fast path. */
function viaDigits(text: string): number | undefined {
  let hi = 0;
  let lo = 0;
  let r = 0;
  let k = 0;
  let dot = false;
  for (const ch of text) {
    if (ch === '.') {
      dot = true;
      continue;
    }
    const d = ch.charCodeAt(0) - 48;
    if (dot) k++;
    if (hi < 9e14) hi = hi * 10 + d;
    else {
      lo = lo * 10 + d;
      r++;
    }
  }
  if (r > 4 || k > 22) return undefined;
  return decimalToDouble(hi, r, lo, k);
}

describe('decimalToDouble', () => {
  it('is exact or undecided for shortest forms of doubles (17 digits and fewer)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-6, max: 1e21, noNaN: true, noDefaultInfinity: true }),
        (v) => {
          const text = String(v);
          if (text.includes('e')) return;
          const got = viaDigits(text);
          if (got === undefined || Number.isNaN(got)) return;
          expect(got).toBe(v);
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it('is exact or undecided for arbitrary 16 to 19 digit decimals', () => {
    const digit = fc.integer({ min: 0, max: 9 });
    fc.assert(
      fc.property(
        fc.array(digit, { minLength: 16, maxLength: 19 }),
        fc.integer({ min: 0, max: 19 }),
        (ds, dotAt) => {
          const d = ds.join('').replace(/^0+(?=\d)/, '');
          const at = Math.min(dotAt, d.length - 1);
          const text = at === 0 ? d : `${d.slice(0, at)}.${d.slice(at)}`;
          const got = viaDigits(text);
          if (got === undefined || Number.isNaN(got)) return;
          expect(got).toBe(Number(text));
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it('decides nearly always', () => {
    let undecided = 0;
    for (let i = 1; i <= 10_000; i++) {
      const v = i / 30_007;
      if (Number.isNaN(viaDigits(String(v)))) undecided++;
    }
    expect(undecided).toBeLessThan(100);
  });

  it('handles hard cases: halfway points and values beyond 2^53', () => {
    for (const text of [
      '9007199254740993',
      '9007199254740995',
      '0.016666666666666666',
      '1234567890123456789',
      '0.1000000000000000055511151231257827',
    ]) {
      const got = viaDigits(text);
      if (got !== undefined && !Number.isNaN(got)) expect(got).toBe(Number(text));
    }
  });
});
