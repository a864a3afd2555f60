import { describe, expect, it } from 'vitest';

import { BackfillProgress } from '../../../src/pipeline/backfill-progress.js';

const HOUR = 3_600_000;

describe('BackfillProgress', () => {
  it('weighs queries by their grid points and estimates the time left from the pace so far', () => {
    // "fast" has 4x the grid points of "slow" (15s vs 60s step over the same hour).
    const progress = new BackfillProgress(
      [
        { name: 'fast', range: { startMs: 0, endMs: HOUR - 15_000 }, stepMs: 15_000 },
        { name: 'slow', range: { startMs: 0, endMs: HOUR - 60_000 }, stepMs: 60_000 },
      ],
      1_000,
    );
    expect(progress.snapshot(1_000)).toMatchObject({
      fraction: 0,
      samples: 0,
      etaSeconds: undefined,
      queriesDone: 0,
      queries: 2,
    });

    progress.addSamples('fast', 2_000);
    progress.ack('fast', HOUR / 2 - 15_000); // 120 of 240 points
    const half = progress.snapshot(11_000);
    expect(half.fraction).toBeCloseTo(120 / 300, 10);
    expect(half.samplesPerSecond).toBe(200);
    expect(half.query).toBe('fast');
    // 180 points left at 120 points per 10 s.
    expect(half.etaSeconds).toBeCloseTo(15, 10);

    progress.ack('fast', HOUR / 4); // an older ack never moves progress back
    expect(progress.snapshot(11_000).fraction).toBeCloseTo(120 / 300, 10);

    progress.ack('fast', 10 * HOUR); // acks past the range count as the whole range
    progress.finish('fast');
    progress.ack('slow', HOUR - 60_000);
    progress.finish('slow');
    expect(progress.snapshot(21_000)).toMatchObject({ fraction: 1, etaSeconds: 0, queriesDone: 2 });
  });

  it('a query that failed takes no more time, though its points stay unwritten', () => {
    const progress = new BackfillProgress(
      [
        { name: 'a', range: { startMs: 0, endMs: 99_000 }, stepMs: 1_000 },
        { name: 'b', range: { startMs: 0, endMs: 99_000 }, stepMs: 1_000 },
      ],
      0,
    );
    progress.ack('a', 49_000);
    progress.finish('a'); // failed half way
    progress.ack('b', 49_000);
    const s = progress.snapshot(10_000);
    expect(s.fraction).toBeCloseTo(0.5, 10);
    expect(s.etaSeconds).toBeCloseTo((50 * 10) / 100, 10);
  });

  it('an empty backfill is complete', () => {
    expect(new BackfillProgress([], 0).snapshot(5).fraction).toBe(1);
  });
});
