import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  completeWindows,
  extractionRange,
  gridCoverage,
  nextEmission,
  resolutionProblem,
  tierStateKey,
  windowStart,
  type HalfOpenRange,
} from '../../../src/pipeline/windows.js';

const SEED = { seed: 1313, numRuns: 300 };
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % 86_400_000);

/** A step and a resolution that is a multiple of it (the raw tier's R = step included). */
const gridArb = fc
  .record({
    stepMs: fc.constantFrom(1_000, 15_000, 30_000, 60_000),
    factor: fc.constantFrom(1, 2, 4, 20, 60),
  })
  .map(({ stepMs, factor }) => ({ stepMs, resolutionMs: stepMs * factor }));

/** The windows satisfying the definition, by trying every candidate start. */
function windowsByDefinition(
  coverage: HalfOpenRange,
  cutoffMs: number,
  stepMs: number,
  resolutionMs: number,
): number[] {
  const starts: number[] = [];
  const first = windowStart(coverage.fromMs, resolutionMs) - 2 * resolutionMs;
  for (let s = first; s <= coverage.toMs + 2 * resolutionMs; s += resolutionMs) {
    const covered = s - stepMs >= coverage.fromMs && s + resolutionMs <= coverage.toMs;
    if (covered && s + resolutionMs <= cutoffMs) starts.push(s);
  }
  return starts;
}

function starts(windows: HalfOpenRange | undefined, resolutionMs: number): number[] {
  const out: number[] = [];
  if (windows) for (let s = windows.fromMs; s < windows.toMs; s += resolutionMs) out.push(s);
  return out;
}

describe('completeWindows', () => {
  it('returns exactly the windows whose [s - step, s + R) is covered and that end by the cutoff', () => {
    fc.assert(
      fc.property(
        gridArb,
        fc.integer({ min: 0, max: 400 }),
        fc.integer({ min: 0, max: 400 }),
        fc.integer({ min: -50_000_000, max: 50_000_000 }),
        ({ stepMs, resolutionMs }, startSteps, lengthSteps, cutoffOffset) => {
          const coverage = {
            fromMs: T0 + startSteps * stepMs,
            toMs: T0 + (startSteps + lengthSteps) * stepMs,
          };
          const cutoffMs = coverage.toMs + cutoffOffset;
          const got = completeWindows(coverage, cutoffMs, stepMs, resolutionMs);
          expect(starts(got, resolutionMs)).toEqual(
            windowsByDefinition(coverage, cutoffMs, stepMs, resolutionMs),
          );
          if (got) expect(got.fromMs % resolutionMs).toBe(0);
        },
      ),
      SEED,
    );
  });

  it('completes every window of a range extracted from one step before it', () => {
    fc.assert(
      fc.property(
        gridArb,
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 1, max: 50 }),
        ({ stepMs, resolutionMs }, first, count) => {
          const windows = {
            fromMs: T0 + first * resolutionMs,
            toMs: T0 + (first + count) * resolutionMs,
          };
          const extract = extractionRange(windows, stepMs);
          expect(extract.startMs).toBe(windows.fromMs - stepMs);
          const coverage = gridCoverage(extract, stepMs)!;
          expect(completeWindows(coverage, windows.toMs, stepMs, resolutionMs)).toEqual(windows);
          // Starting one step later leaves the first window incomplete, not emitted.
          const late = { fromMs: coverage.fromMs + stepMs, toMs: coverage.toMs };
          expect(completeWindows(late, windows.toMs, stepMs, resolutionMs)?.fromMs).not.toBe(
            windows.fromMs,
          );
        },
      ),
      SEED,
    );
  });

  it('holds a window back until its end is past now - delay - lateness', () => {
    const coverage = { fromMs: T0 - 15_000, toMs: T0 + 3_600_000 };
    expect(completeWindows(coverage, T0 + 3_599_999, 15_000, 3_600_000)).toBeUndefined();
    expect(completeWindows(coverage, T0 + 3_600_000, 15_000, 3_600_000)).toEqual({
      fromMs: T0,
      toMs: T0 + 3_600_000,
    });
  });

  it('treats the raw tier as windows of one grid point', () => {
    const coverage = { fromMs: T0, toMs: T0 + 60_000 };
    expect(completeWindows(coverage, Infinity, 15_000, 15_000)).toEqual({
      fromMs: T0 + 15_000,
      toMs: T0 + 60_000,
    });
  });
});

describe('gridCoverage', () => {
  it('covers the grid points of a range that starts on the grid, half-open', () => {
    expect(gridCoverage({ startMs: T0, endMs: T0 + 50_000 }, 15_000)).toEqual({
      fromMs: T0,
      toMs: T0 + 60_000,
    });
  });

  it('covers nothing when the range starts off the grid (an unaligned --from)', () => {
    expect(gridCoverage({ startMs: T0 + 1_000, endMs: T0 + 600_000 }, 15_000)).toBeUndefined();
  });
});

describe('nextEmission', () => {
  const base = {
    delayMs: 60_000,
    latenessMs: 0,
    stepMs: 15_000,
    resolutionMs: 300_000,
    rewriteWindows: 0,
    initialLookbackMs: 3_600_000,
    maxCatchupMs: 86_400_000,
  };

  it('emits every window exactly once, each only when complete, whatever the cycle timing', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 900_000 }), { minLength: 1, maxLength: 60 }),
        fc.constantFrom(0, 30_000, 600_000),
        (advances, latenessMs) => {
          let nowMs = T0 + 7_777;
          let watermarkMs: number | undefined;
          const emitted: number[] = [];
          for (const advance of advances) {
            nowMs += advance;
            const next = nextEmission({ ...base, latenessMs, nowMs, watermarkMs });
            if (!next) continue;
            expect(next.gap).toBeUndefined();
            expect(next.windows.toMs).toBeLessThanOrEqual(nowMs - base.delayMs - latenessMs);
            expect(next.extract).toEqual(extractionRange(next.windows, base.stepMs));
            emitted.push(...starts(next.windows, base.resolutionMs));
            watermarkMs = next.windows.toMs;
          }
          for (let i = 1; i < emitted.length; i++) {
            expect(emitted[i]! - emitted[i - 1]!).toBe(base.resolutionMs);
          }
        },
      ),
      SEED,
    );
  });

  it('recomputes the last rewrite_windows emitted windows with each new one', () => {
    const watermarkMs = T0 + 3_600_000;
    const nowMs = watermarkMs + 300_000 + 60_000;
    const next = nextEmission({ ...base, rewriteWindows: 3, nowMs, watermarkMs })!;
    expect(next.windows).toEqual({ fromMs: watermarkMs - 900_000, toMs: watermarkMs + 300_000 });
    // Nothing new due: nothing rewritten either.
    expect(
      nextEmission({ ...base, rewriteWindows: 3, nowMs: nowMs - 1, watermarkMs }),
    ).toBeUndefined();
  });

  it('starts a new tier initial_lookback back, on whole windows', () => {
    const nowMs = T0 + 86_400_000 + 123_456;
    const next = nextEmission({ ...base, nowMs, watermarkMs: undefined })!;
    expect(next.windows.toMs).toBe(T0 + 86_400_000);
    expect(next.windows.fromMs).toBe(T0 + 86_400_000 - 3_600_000);
    expect(next.gap).toBeUndefined();
  });

  it('starts a new tier with the window holding now - initial_lookback, even if shorter than R', () => {
    const nowMs = T0 + 86_400_000 + 60_000 + 123_456;
    const next = nextEmission({
      ...base,
      initialLookbackMs: 60_000,
      nowMs,
      watermarkMs: undefined,
    })!;
    expect(next.windows).toEqual({ fromMs: T0 + 86_400_000 - 300_000, toMs: T0 + 86_400_000 });
    const unaligned = nextEmission({
      ...base,
      initialLookbackMs: 400_000,
      nowMs,
      watermarkMs: undefined,
    })!;
    expect(unaligned.windows.fromMs).toBe(T0 + 86_400_000 - 600_000);
  });

  it('cuts a backlog longer than max_catchup and reports the windows left out as a gap', () => {
    const watermarkMs = T0;
    const nowMs = T0 + 3 * 86_400_000 + 60_000;
    const next = nextEmission({ ...base, rewriteWindows: 2, nowMs, watermarkMs })!;
    expect(next.gap).toEqual({ fromMs: T0, toMs: T0 + 2 * 86_400_000 });
    expect(next.windows).toEqual({ fromMs: T0 + 2 * 86_400_000, toMs: T0 + 3 * 86_400_000 });
  });
});

describe('tier state', () => {
  it('keys state by query, tier, step and resolution', () => {
    const key = { query: 'q', tier: 'warm', stepMs: 15_000, resolutionMs: 300_000 };
    const keys = new Set([
      tierStateKey(key),
      tierStateKey({ ...key, query: 'p' }),
      tierStateKey({ ...key, tier: 'cold' }),
      tierStateKey({ ...key, stepMs: 30_000 }),
      tierStateKey({ ...key, resolutionMs: 3_600_000 }),
    ]);
    expect(keys.size).toBe(5);
    expect(tierStateKey({ ...key })).toBe(tierStateKey(key));
  });

  it('rejects a resolution that is not a multiple of the step', () => {
    expect(resolutionProblem(15_000, 300_000)).toBeUndefined();
    expect(resolutionProblem(15_000, 15_000)).toBeUndefined();
    expect(resolutionProblem(15_000, 100_000)).toBe(
      'A resolution of 100000 ms is not a multiple of the step (15000 ms).',
    );
    expect(resolutionProblem(0, 300_000)).toBe(
      'The step must be a positive whole number of milliseconds, not 0.',
    );
  });
});
