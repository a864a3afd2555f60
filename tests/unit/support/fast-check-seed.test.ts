import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

describe('fast-check seed', () => {
  it('is fixed for every property test, so runs repeat', () => {
    const seed = fc.readConfigureGlobal().seed;
    expect(Number.isSafeInteger(seed)).toBe(true);
    const draw = (): number[] => fc.sample(fc.integer(), { numRuns: 5, seed });
    expect(draw()).toEqual(draw());
    // Without FAST_CHECK_SEED the suite's own seed applies.
    if (process.env['FAST_CHECK_SEED'] === undefined) expect(seed).toBe(20261201);
  });
});
