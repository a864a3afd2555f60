import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  chunkPoints,
  planChunk,
  planChunks,
  pointsPerChunk,
  PROMETHEUS_MAX_POINTS,
  splitChunk,
} from '../../../src/extract/chunk-plan.js';
import type { Chunk } from '../../../src/extract/types.js';
import { firstGridPoint, lastGridPoint } from '../../../src/core/step-grid.js';

const step = fc.oneof(
  fc.constantFrom(1, 7, 1000, 15_000, 60_000, 86_400_000),
  fc.integer({ min: 1, max: 3_600_000 }),
);
const epochMs = fc.integer({ min: -1_000_000_000, max: 4_000_000_000_000 });
const limits = fc.record({
  maxPointsPerSeries: fc.integer({ min: 1, max: 20_000 }),
  maxSamplesPerRequest: fc.integer({ min: 1, max: 10_000_000 }),
  expectedSeries: fc.integer({ min: 0, max: 100_000 }),
});
/** A range of at most ~3000 grid points, so the grid can be listed. */
const range = fc
  .tuple(epochMs, step, fc.integer({ min: -5, max: 3000 }), fc.integer({ min: 0, max: 1 }))
  .map(([start, stepMs, points, jitter]) => ({
    startMs: start,
    endMs: start + points * stepMs + (jitter ? Math.floor(stepMs / 2) : 0),
    stepMs,
  }));

function gridPoints(startMs: number, endMs: number, stepMs: number): number[] {
  const out: number[] = [];
  for (let t = Math.ceil(startMs / stepMs) * stepMs + 0; t <= endMs; t += stepMs) {
    if (t >= startMs) out.push(t);
  }
  return out;
}

function pointsOf(chunks: Chunk[], stepMs: number): number[] {
  return chunks.flatMap((c) => gridPoints(c.startMs, c.endMs, stepMs));
}

describe('grid points', () => {
  it('are the multiples of the step nearest inside the bound', () => {
    fc.assert(
      fc.property(epochMs, step, (t, s) => {
        const first = firstGridPoint(t, s);
        const last = lastGridPoint(t, s);
        expect(first % s === 0 && last % s === 0).toBe(true);
        expect(first >= t && first - s < t).toBe(true);
        expect(last <= t && last + s > t).toBe(true);
        expect(first === t).toBe(last === t);
      }),
    );
  });

  it('examples', () => {
    expect(firstGridPoint(1_714_521_601_000, 15_000)).toBe(1_714_521_615_000);
    expect(firstGridPoint(1_714_521_600_000, 15_000)).toBe(1_714_521_600_000);
    expect(lastGridPoint(1_714_521_614_999, 15_000)).toBe(1_714_521_600_000);
    expect(firstGridPoint(-1, 10)).toBe(0);
    expect(lastGridPoint(-1, 10)).toBe(-10);
  });
});

describe('planChunks', () => {
  it('covers exactly the grid points of the range, in order, without gaps or overlap', () => {
    fc.assert(
      fc.property(range, limits, (r, l) => {
        const chunks = planChunks(r, l);
        expect(pointsOf(chunks, r.stepMs)).toEqual(gridPoints(r.startMs, r.endMs, r.stepMs));
        const max = pointsPerChunk(l);
        chunks.forEach((c, i) => {
          expect(c.startMs % r.stepMs === 0).toBe(true);
          expect(c.endMs % r.stepMs === 0).toBe(true);
          expect(c.startMs).toBeLessThanOrEqual(c.endMs);
          expect(c.startMs).toBeGreaterThanOrEqual(r.startMs);
          expect(c.endMs).toBeLessThanOrEqual(r.endMs);
          const points = chunkPoints(c, r.stepMs);
          expect(points).toBeLessThanOrEqual(max);
          expect(points).toBeLessThanOrEqual(PROMETHEUS_MAX_POINTS);
          // Only the last chunk may be short.
          if (i < chunks.length - 1) {
            expect(points).toBe(max);
            expect(chunks[i + 1]!.startMs).toBe(c.endMs + r.stepMs);
          }
        });
      }),
    );
  });

  it('sizes chunks by the samples budget over the expected series, at least one point', () => {
    const base = { maxPointsPerSeries: 11_000, maxSamplesPerRequest: 1_000_000 };
    expect(pointsPerChunk({ ...base, expectedSeries: 1000 })).toBe(1000);
    expect(pointsPerChunk({ ...base, expectedSeries: 0 })).toBe(11_000);
    expect(pointsPerChunk({ ...base, expectedSeries: 10 })).toBe(11_000);
    expect(pointsPerChunk({ ...base, expectedSeries: 5_000_000 })).toBe(1);
    expect(pointsPerChunk({ ...base, maxPointsPerSeries: 50_000, expectedSeries: 1 })).toBe(11_000);
    const chunks = planChunks(
      { startMs: 0, endMs: 3_600_000, stepMs: 15_000 },
      { ...base, maxSamplesPerRequest: 100_000, expectedSeries: 1000 },
    );
    expect(chunks).toHaveLength(3);
    expect(chunks[0]).toEqual({ startMs: 0, endMs: 1_485_000 });
    expect(chunks[2]).toEqual({ startMs: 3_000_000, endMs: 3_600_000 });
  });

  it('returns nothing for a range without grid points', () => {
    const l = { maxPointsPerSeries: 100, maxSamplesPerRequest: 100, expectedSeries: 1 };
    expect(planChunks({ startMs: 1001, endMs: 1999, stepMs: 1000 }, l)).toEqual([]);
    expect(planChunks({ startMs: 5000, endMs: 4000, stepMs: 1000 }, l)).toEqual([]);
    expect(planChunk(2000, 2000, 1000, l)).toEqual({ startMs: 2000, endMs: 2000 });
  });
});

describe('planChunk', () => {
  it('starts at the first grid point at or after the cursor', () => {
    fc.assert(
      fc.property(range, limits, fc.double({ min: -0.1, max: 1.1, noNaN: true }), (r, l, at) => {
        const cursor = Math.round(r.startMs + at * (r.endMs - r.startMs)) + 0; // no -0
        const chunk = planChunk(cursor, r.endMs, r.stepMs, l);
        const expected = gridPoints(cursor, r.endMs, r.stepMs);
        if (expected.length === 0) expect(chunk).toBeUndefined();
        else {
          expect(chunk?.startMs).toBe(expected[0]);
          expect(chunkPoints(chunk!, r.stepMs)).toBe(Math.min(expected.length, pointsPerChunk(l)));
        }
      }),
    );
  });
});

describe('splitChunk', () => {
  it('halves cover the original exactly', () => {
    fc.assert(
      fc.property(epochMs, step, fc.integer({ min: 0, max: 5000 }), (t, s, extra) => {
        const start = firstGridPoint(t, s);
        const chunk = { startMs: start, endMs: start + extra * s };
        const halves = splitChunk(chunk, s);
        if (extra === 0) {
          expect(halves).toBeUndefined();
          return;
        }
        expect(halves).toBeDefined();
        const [left, right] = halves!;
        expect(pointsOf([left, right], s)).toEqual(pointsOf([chunk], s));
        expect(right.startMs).toBe(left.endMs + s);
        const l = chunkPoints(left, s);
        const r = chunkPoints(right, s);
        expect(l >= 1 && r >= 1 && l - r >= 0 && l - r <= 1).toBe(true);
      }),
    );
  });
});
