import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { QueryConfig, TierConfig } from '../../../src/config/types.js';
import { extractionFor, tierRunsForRange, type TierRun } from '../../../src/pipeline/tier-runs.js';

const STEP = 60_000;
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % 86_400_000);
const HOT: TierConfig = { name: 'hot', bucket: 'm/hot', retentionMs: 7 * 86_400_000 };
const WARM: TierConfig = { name: 'warm', bucket: 'm/warm', retentionMs: 0, resolutionMs: 300_000 };
const COLD: TierConfig = {
  name: 'cold',
  bucket: 'm/cold',
  retentionMs: 0,
  resolutionMs: 3_600_000,
};
const TIERS = [HOT, WARM, COLD];

function query(tiers?: string[]): QueryConfig {
  return { name: 'q', expr: 'up', stepMs: STEP, tags: {}, ...(tiers && { tiers }) };
}

describe('tierRunsForRange', () => {
  it('gives raw tiers the range and rollup tiers the whole windows inside it', () => {
    // 10:02 .. 11:59: warm's windows from 10:05 to 12:00 (the one ending 12:00 has its last point
    // at 11:59); cold's only window starting in the range would need 11:00 .. 11:59: it is whole.
    const range = { startMs: T0 + 10 * 3_600_000 + 120_000, endMs: T0 + 12 * 3_600_000 - 60_000 };
    const runs = tierRunsForRange(query(), TIERS, range);
    expect(runs).toEqual([
      { tier: HOT, range: { kind: 'raw', points: range } },
      {
        tier: WARM,
        range: {
          kind: 'rollup',
          windows: { fromMs: T0 + 10 * 3_600_000 + 300_000, toMs: T0 + 12 * 3_600_000 },
        },
      },
      {
        tier: COLD,
        range: {
          kind: 'rollup',
          windows: { fromMs: T0 + 11 * 3_600_000, toMs: T0 + 12 * 3_600_000 },
        },
      },
    ]);
    // One extraction for all three, starting one step before warm's first window.
    expect(extractionFor(runs, STEP)).toEqual({
      startMs: range.startMs,
      endMs: range.endMs,
    });
  });

  it('starts the extraction one step before an aligned range for its first window', () => {
    const range = { startMs: T0, endMs: T0 + 3_600_000 - STEP };
    const runs = tierRunsForRange(query(), TIERS, range);
    expect(runs.map((r) => r.range)).toEqual([
      { kind: 'raw', points: range },
      { kind: 'rollup', windows: { fromMs: T0, toMs: T0 + 3_600_000 } },
      { kind: 'rollup', windows: { fromMs: T0, toMs: T0 + 3_600_000 } },
    ]);
    expect(extractionFor(runs, STEP)).toEqual({ startMs: T0 - STEP, endMs: range.endMs });
  });

  it('keeps only the tiers the query lists, and an empty run where no window is whole', () => {
    const range = { startMs: T0 + 60_000, endMs: T0 + 600_000 };
    const runs = tierRunsForRange(query(['cold', 'hot']), TIERS, range);
    expect(runs.map((r) => r.tier.name)).toEqual(['hot', 'cold']);
    expect(runs[1]!.range).toEqual({
      kind: 'rollup',
      windows: { fromMs: T0 + 3_600_000, toMs: T0 + 3_600_000 },
    });
    // The empty cold run adds nothing to the extraction.
    expect(extractionFor(runs, STEP)).toEqual(range);
    expect(extractionFor([runs[1]!], STEP)).toBeUndefined();
    expect(extractionFor([], STEP)).toBeUndefined();
  });

  it('emits exactly the windows whose every grid point lies in the range', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 * 86_400_000 }),
        fc.integer({ min: 0, max: 86_400_000 }),
        fc.constantFrom(300_000, 900_000, 3_600_000),
        (offset, length, resolutionMs) => {
          const range = { startMs: T0 + offset, endMs: T0 + offset + length };
          const tier = { ...WARM, resolutionMs };
          const [run] = tierRunsForRange(query(), [tier], range);
          if (run!.range.kind !== 'rollup') throw new Error('a rollup tier gives a rollup run');
          const { fromMs, toMs } = run!.range.windows;
          const expected: number[] = [];
          const first = Math.floor(range.startMs / resolutionMs) * resolutionMs;
          for (let s = first; s <= range.endMs; s += resolutionMs) {
            if (s >= range.startMs && s + resolutionMs - STEP <= range.endMs) expected.push(s);
          }
          const got: number[] = [];
          for (let s = fromMs; s < toMs; s += resolutionMs) got.push(s);
          expect(got).toEqual(expected);
          expect(fromMs % resolutionMs).toBe(0);
          expect(toMs % resolutionMs).toBe(0);
          const extraction = extractionFor([run!], STEP);
          if (got.length === 0) expect(extraction).toBeUndefined();
          else expect(extraction).toEqual({ startMs: fromMs - STEP, endMs: toMs - STEP });
        },
      ),
      { seed: 1313, numRuns: 300 },
    );
  });

  it('takes the hull of raw and rollup runs that differ', () => {
    const runs: TierRun[] = [
      { tier: HOT, range: { kind: 'raw', points: { startMs: T0 + 600_000, endMs: T0 + 900_000 } } },
      { tier: WARM, range: { kind: 'rollup', windows: { fromMs: T0, toMs: T0 + 600_000 } } },
    ];
    expect(extractionFor(runs, STEP)).toEqual({ startMs: T0 - STEP, endMs: T0 + 900_000 });
  });
});
