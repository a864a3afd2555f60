import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planRange } from '../../../src/daemon/plan-range.js';

const STEP = 15_000;
const base = {
  delayMs: 60_000,
  stepMs: STEP,
  initialLookbackMs: 300_000,
  maxCatchupMs: 86_400_000,
};

describe('planRange', () => {
  it('starts a new query initial_lookback back, on the grid, up to now - delay', () => {
    const nowMs = 1_700_000_007_000;
    const plan = planRange({ ...base, nowMs, watermarkMs: undefined });
    expect(plan.gap).toBeUndefined();
    expect(plan.range!.endMs).toBe(Math.floor((nowMs - 60_000) / STEP) * STEP);
    expect(plan.range!.startMs).toBe(plan.range!.endMs - 300_000);
    expect(plan.range!.startMs % STEP).toBe(0);
  });

  it('has nothing to do until a new grid point is due', () => {
    const watermarkMs = 1_699_999_995_000; // on the 15s grid
    const nowMs = watermarkMs + 60_000 + STEP - 1;
    expect(planRange({ ...base, nowMs, watermarkMs }).range).toBeUndefined();
    expect(planRange({ ...base, nowMs: nowMs + 1, watermarkMs }).range).toEqual({
      startMs: watermarkMs + STEP,
      endMs: watermarkMs + STEP,
    });
  });

  it('consecutive cycles cover every grid point exactly once, whatever their timing', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 200_000 }), { minLength: 1, maxLength: 40 }),
        (advances) => {
          let nowMs = 1_700_000_000_000;
          let watermarkMs: number | undefined;
          const covered: number[] = [];
          for (const advance of advances) {
            nowMs += advance;
            const { range, gap } = planRange({ ...base, nowMs, watermarkMs });
            expect(gap).toBeUndefined();
            if (!range) continue;
            for (let t = range.startMs; t <= range.endMs; t += STEP) covered.push(t);
            watermarkMs = range.endMs;
          }
          for (let i = 1; i < covered.length; i++) expect(covered[i]! - covered[i - 1]!).toBe(STEP);
        },
      ),
    );
  });

  it('after downtime longer than max_catchup, catches up the newest part and reports the rest as a gap', () => {
    const watermarkMs = 1_700_000_000_000;
    const nowMs = watermarkMs + 3 * 86_400_000;
    const { range, gap } = planRange({ ...base, nowMs, watermarkMs, maxCatchupMs: 86_400_000 });
    expect(gap!.startMs).toBe(watermarkMs + STEP);
    expect(gap!.endMs + STEP).toBe(range!.startMs);
    expect(range!.endMs - range!.startMs).toBeLessThanOrEqual(86_400_000);
  });
});
