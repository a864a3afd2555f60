import { describe, expect, it } from 'vitest';
import { readFigures, simulateReads } from '../../../scripts/bench/tier-reads.js';

/**
 * A steady daemon, planned by the real planner over a simulated day: with carried rollup windows,
 * raw + 5m + 1h asks Prometheus for exactly the grid points raw alone does; re-reading each due
 * window whole (as before carries, and still with lateness or rewrite_windows) asks for far more.
 */
describe('grid points a steady daemon extracts', () => {
  it('raw + 5m + 1h with carries reads what raw alone reads', () => {
    const { raw, before, after } = readFigures();
    expect(raw.cycles).toBe(24 * 60);
    expect(raw.points).toBe(24 * 60 * 4);
    expect(after.points).toBe(raw.points);
    expect(after.maxPerCycle).toBe(raw.maxPerCycle);
    expect(after.carried).toBe(2 * raw.cycles);
    expect(after.reread).toBe(0);
    // Re-reading: every 5m window whole when due, and the 1h window whole every hour.
    expect(before.points / raw.points).toBeGreaterThan(2.5);
    expect(before.reread).toBe(24 * 12 + 24);
  });

  it('holds for other steps and intervals, cycles off the window grid', () => {
    for (const [stepMs, intervalMs] of [
      [60_000, 60_000],
      [15_000, 45_000],
      [10_000, 300_000],
    ] as const) {
      const base = { stepMs, intervalMs, durationMs: 6 * 3_600_000 };
      const raw = simulateReads({ ...base, resolutionsMs: [], carry: false });
      const after = simulateReads({ ...base, resolutionsMs: [300_000, 3_600_000], carry: true });
      expect(after.points, `step ${stepMs}, interval ${intervalMs}`).toBe(raw.points);
      expect(after.reread).toBe(0);
    }
  });
});
