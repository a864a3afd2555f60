import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { writeFloat } from '../../../src/transform/line-protocol.js';
import { writeShortestFloat } from '../../../src/transform/shortest-float.js';

const buf = Buffer.alloc(64);

/** What writeShortestFloat wrote, or undefined when it left the value to String(v). */
function shortest(v: number): string | undefined {
  buf.fill(0x7e);
  const end = writeShortestFloat(buf, 3, Float64Array.of(0, v), 1);
  if (end < 0) {
    // Nothing written when it declines.
    expect(buf.subarray(0, 8).every((b) => b === 0x7e)).toBe(true);
    return undefined;
  }
  return buf.toString('latin1', 3, end);
}

const inRange = (v: number): boolean => Math.abs(v) >= 1e-6 && Math.abs(v) < 1e15;

/** The spelling must be String(v)'s and read back as v; in range it must never decline. */
function expectStringSpelling(v: number): void {
  const text = shortest(v);
  if (text === undefined) {
    expect(inRange(v), `declined ${String(v)}`).toBe(false);
    return;
  }
  expect(text).toBe(String(v));
  expect(Number(text)).toBe(v);
}

const f64 = new Float64Array(1);
const words = new Uint32Array(f64.buffer);

/** The doubles just above (`step` 1) or below (-1) a positive `v`. */
function neighbours(v: number, count: number, step: 1 | -1): number[] {
  const out: number[] = [];
  f64[0] = v;
  for (let i = 0; i < count; i++) {
    const low = words[0]! + step;
    words[0] = low >>> 0;
    if (low > 0xffffffff || low < 0) words[1] = words[1]! + step;
    out.push(f64[0]);
  }
  return out;
}

/**
 * A window sum or mean as the rollups make them: consecutive sums of two-decimal values, which
 * mostly need 16 or 17 significant digits (`12345.670000000002`).
 */
const windowAggregate = fc
  .tuple(
    fc.array(fc.integer({ min: -100_000, max: 100_000 }), { minLength: 2, maxLength: 240 }),
    fc.boolean(),
  )
  .map(([cents, mean]) => {
    let sum = 0;
    for (const c of cents) sum += c / 100;
    return mean ? sum / cents.length : sum;
  });

describe('writeShortestFloat', () => {
  it('spells window sums and means as String(v), without declining', () => {
    fc.assert(fc.property(windowAggregate, expectStringSpelling), { numRuns: 20_000 });
  });

  it('spells any double of [1e-6, 1e15) as String(v), and declines the rest', () => {
    const anyBits = fc
      .tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }))
      .map(([high, low]) => {
        words[1] = high;
        words[0] = low;
        return f64[0]!;
      })
      .filter((v) => Number.isFinite(v));
    const inRangeDoubles = fc.double({ min: 1e-6, max: 1e15, noNaN: true });
    fc.assert(
      fc.property(fc.oneof(inRangeDoubles, anyBits), fc.boolean(), (v, negate) =>
        expectStringSpelling(negate ? -v : v),
      ),
      { numRuns: 50_000 },
    );
  });

  it('spells exact ties between two k-digit decimals (k = 15, 16, 17) as String(v)', () => {
    // m / 2^j is exact, with exactly d significant digits when m × 5^j has d digits: for
    // d = k + 1 ending in 5 it lies halfway between two k-digit decimals.
    let checked = 0;
    for (let j = 1; j <= 60; j++) {
      const five = 5n ** BigInt(j);
      for (const d of [16n, 17n, 18n]) {
        const from = 10n ** (d - 1n) / five + 1n;
        const to = 10n ** d / five;
        for (let m = from | 1n; m <= to && m < from + 200n && m < 2n ** 53n; m += 2n) {
          const v = Number(m) / 2 ** j;
          expectStringSpelling(v);
          expectStringSpelling(-v);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(5000);
  });

  it('spells the neighbours of powers of ten and of two as String(v)', () => {
    for (let e = -7; e <= 15; e++) {
      const ten = Number(`1e${e}`);
      for (const v of [ten, ...neighbours(ten, 40, 1), ...neighbours(ten, 40, -1)]) {
        expectStringSpelling(v);
      }
    }
    for (let e = -22; e <= 52; e++) {
      const two = 2 ** e;
      for (const v of [two, ...neighbours(two, 20, 1), ...neighbours(two, 20, -1)]) {
        expectStringSpelling(v);
      }
    }
  });

  it.each([
    [0.1, '0.1'],
    [-0.1, '-0.1'],
    [12345.670000000002, '12345.670000000002'],
    [617.2835000000001, '617.2835000000001'],
    [0.30000000000000004, '0.30000000000000004'],
    [1e-6, '0.000001'],
    [1.5e-6, '0.0000015'],
    [999999999999999.9, '999999999999999.9'],
    [0.9999999999999999, '0.9999999999999999'],
    [123, '123'],
  ])('%d → %s', (v, expected) => {
    expect(shortest(v)).toBe(expected);
    expect(String(v)).toBe(expected);
  });

  it.each([
    ['zero', 0],
    ['negative zero', -0],
    ['below 1e-6', 9.99e-7],
    ['subnormal', 5e-324],
    ['tiny', -1.5e-300],
    ['1e15', 1e15],
    ['above 2^53', 2 ** 53 + 2],
    ['huge', 1.7976931348623157e308],
    ['infinite', Infinity],
    ['NaN', NaN],
  ])('declines %s (String(v) spells it)', (_, v) => {
    expect(shortest(v)).toBeUndefined();
  });
});

describe('writeFloat', () => {
  const render = (v: number): string => {
    const out = Buffer.alloc(64);
    return out.toString('latin1', 0, writeFloat(out, 0, v));
  };

  it('writes what String(v) writes for window sums and means and for edge values', () => {
    const edges = fc.constantFrom(
      -0,
      5e-324,
      -2.2250738585072014e-308,
      1e-7,
      9.999999999999999e-7,
      2 ** 53 + 2,
      -(2 ** 60),
      1e21,
      1.7976931348623157e308,
    );
    fc.assert(
      fc.property(fc.oneof(windowAggregate, edges, fc.double({ noNaN: true })), (v) => {
        if (!Number.isFinite(v)) return;
        const text = render(v);
        expect(text).toBe(String(v === 0 ? 0 : v));
        expect(Number(text)).toBe(v === 0 ? 0 : v);
      }),
      { numRuns: 20_000 },
    );
  });
});
