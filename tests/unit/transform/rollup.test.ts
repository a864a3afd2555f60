import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  RollupAccumulator,
  type MetricKind,
  type WindowAggregate,
} from '../../../src/transform/rollup.js';
import {
  HOUR,
  T0,
  byStart,
  caseArb,
  chunkBlocks,
  reference,
  rollUp,
  seriesArb,
  snapshot,
  type Point,
  type Window,
} from './rollup-helpers.js';

const SEED = { seed: 4242, numRuns: 200 };

describe('RollupAccumulator', () => {
  for (const kind of ['gauge', 'counter'] as const) {
    it(`${kind}: every window equals the reference, however the range is cut into chunks`, () => {
      fc.assert(
        fc.property(caseArb(kind), ({ run, series, cuts, otherCuts, extractEarlier }) => {
          const expected = reference(
            kind,
            run.stepMs,
            run.resolutionMs,
            run.fromMs,
            run.toMs,
            series,
          );
          const whole = rollUp({ ...run, cuts: [] }, series);
          expect(whole).toEqual(expected);
          expect(rollUp({ ...run, cuts }, series)).toEqual(expected);
          // Points extracted before the first window's predecessor change nothing.
          const extractFromMs = run.fromMs - (1 + extractEarlier) * run.stepMs;
          expect(rollUp({ ...run, cuts: otherCuts, extractFromMs }, series)).toEqual(expected);
        }),
        SEED,
      );
    });

    it(`${kind}: cycles and restarts at any window, rewriting windows, give the same windows`, () => {
      fc.assert(
        fc.property(
          caseArb(kind),
          fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 4 }),
          fc.integer({ min: 0, max: 2 }),
          ({ run, series, cuts }, restartAt, rewrite) => {
            const whole = rollUp({ ...run, cuts: [] }, series);
            const r = run.resolutionMs;
            const marks = [
              ...new Set([run.fromMs, ...restartAt.map((k) => run.fromMs + k * r), run.toMs]),
            ]
              .filter((m) => m <= run.toMs)
              .sort((a, b) => a - b);
            const seen = new Map<string, Window>();
            for (let i = 1; i < marks.length; i++) {
              // Each cycle starts afresh from its watermark, rewriting up to `rewrite` windows.
              const fromMs = Math.max(run.fromMs, marks[i - 1]! - rewrite * r);
              for (const w of rollUp({ ...run, fromMs, toMs: marks[i]!, cuts }, series)) {
                const key = `${w.series}@${w.startMs}`;
                const before = seen.get(key);
                if (before) expect(w).toEqual(before); // a rewritten window is identical
                seen.set(key, w);
              }
            }
            expect([...seen.values()].sort(byStart)).toEqual(whole);
          },
        ),
        SEED,
      );
    });
  }

  it('counter: consecutive windows add up to the increase of the range', () => {
    fc.assert(
      fc.property(caseArb('counter', true), ({ run, series, cuts }) => {
        const windows = rollUp({ ...run, cuts }, series);
        // The range's increase from the points alone: one window spanning it.
        const range = reference(
          'counter',
          run.stepMs,
          run.toMs - run.fromMs,
          run.fromMs,
          run.toMs,
          series,
        );
        for (const whole of range) {
          const parts = windows.filter((w) => w.series === whole.series);
          const sum = parts.reduce((a, w) => a + w.increase!, 0);
          expect(sum).toBe(whole.increase); // integer values: sums are exact
          expect(parts.reduce((a, w) => a + w.resets!, 0)).toBe(whole.resets);
          expect(parts.reduce((a, w) => a + w.count, 0)).toBe(whole.count);
        }
      }),
      SEED,
    );
  });

  /** The warm windows inside a cold one. */
  function windowsInside(warm: Window[], cold: Window): Window[] {
    return warm.filter(
      (w) =>
        w.series === cold.series && w.startMs >= cold.startMs && w.startMs < cold.startMs + HOUR,
    );
  }

  /** Warm (5m) and cold (1h) tiers fed by the same chunks. */
  function warmAndCold(kind: MetricKind, integers: boolean) {
    return fc
      .record({
        stepMs: fc.constantFrom(15_000, 60_000),
        hours: fc.integer({ min: 1, max: 2 }),
        seriesCount: fc.integer({ min: 1, max: 3 }),
      })
      .chain(({ stepMs, hours, seriesCount }) => {
        const points = (hours * HOUR) / stepMs + 2;
        const cut = fc
          .integer({ min: 1, max: points - 1 })
          .map((k) => T0 - 2 * stepMs + k * stepMs);
        return fc.record({
          stepMs: fc.constant(stepMs),
          toMs: fc.constant(T0 + hours * HOUR),
          series: fc.array(seriesArb(kind, integers, points, stepMs, T0 - 2 * stepMs), {
            minLength: seriesCount,
            maxLength: seriesCount,
          }),
          cuts: fc.uniqueArray(cut, { maxLength: 10 }).map((c) => c.sort((a, b) => a - b)),
        });
      });
  }

  for (const integers of [true, false]) {
    const values = integers ? 'integer values' : 'float values';
    it(`counter (${values}): a cold window's increase is the sum of its twelve warm windows'`, () => {
      fc.assert(
        fc.property(warmAndCold('counter', integers), ({ stepMs, toMs, series, cuts }) => {
          const base = { kind: 'counter' as const, stepMs, fromMs: T0, toMs, cuts };
          const warm = rollUp({ ...base, resolutionMs: 300_000 }, series);
          const cold = rollUp({ ...base, resolutionMs: HOUR }, series);
          for (const c of cold) {
            const parts = windowsInside(warm, c);
            expect(parts.length).toBeLessThanOrEqual(12);
            const increase = parts.reduce((a, w) => a + w.increase!, 0);
            if (integers) expect(c.increase).toBe(increase);
            else expect(c.increase).toBeCloseTo(increase, 6);
            expect(c.resets).toBe(parts.reduce((a, w) => a + w.resets!, 0));
            expect(c.count).toBe(parts.reduce((a, w) => a + w.count, 0));
            expect(c.first).toBe(parts[0]!.first);
            expect(c.last).toBe(parts[parts.length - 1]!.last);
          }
          // No warm window without its cold one.
          expect(new Set(warm.map((w) => `${w.series}@${w.startMs - (w.startMs % HOUR)}`))).toEqual(
            new Set(cold.map((c) => `${c.series}@${c.startMs}`)),
          );
        }),
        SEED,
      );
    });

    it(`gauge (${values}): a cold window's count, sum, min, max are those of its warm windows' points`, () => {
      fc.assert(
        fc.property(warmAndCold('gauge', integers), ({ stepMs, toMs, series, cuts }) => {
          const base = { kind: 'gauge' as const, stepMs, fromMs: T0, toMs, cuts };
          const warm = rollUp({ ...base, resolutionMs: 300_000 }, series);
          const cold = rollUp({ ...base, resolutionMs: HOUR }, series);
          for (const c of cold) {
            const parts = windowsInside(warm, c);
            const points = series[c.series]!.filter(
              (p) => p.t >= c.startMs && p.t < c.startMs + HOUR && !Number.isNaN(p.v),
            );
            expect(c.count).toBe(parts.reduce((a, w) => a + w.count, 0));
            expect(c.count).toBe(points.length);
            expect(c.sum).toBe(points.reduce((a, p) => a + p.v, 0));
            const partSums = parts.reduce((a, w) => a + w.sum!, 0);
            if (integers) expect(c.sum).toBe(partSums);
            else expect(c.sum).toBeCloseTo(partSums, 3);
            expect(c.min).toBe(Math.min(...parts.map((w) => w.min!)));
            expect(c.max).toBe(Math.max(...parts.map((w) => w.max!)));
            expect(c.last).toBe(parts[parts.length - 1]!.last);
          }
        }),
        SEED,
      );
    });
  }

  it('gauge: the mean of an hour is sum / count of its points, not an average of averages', () => {
    const stepMs = 60_000;
    // 5 points of 10 in the first 5m window, one point of 100 in the second.
    const points: Point[] = [0, 1, 2, 3, 4].map((k) => ({ t: T0 + k * stepMs, v: 10 }));
    points.push({ t: T0 + 300_000, v: 100 });
    const base = { kind: 'gauge' as const, stepMs, fromMs: T0, toMs: T0 + HOUR, cuts: [] };
    const [cold] = rollUp({ ...base, resolutionMs: HOUR }, [points]);
    expect(cold!.sum! / cold!.count).toBe(25);
    const warm = rollUp({ ...base, resolutionMs: 300_000 }, [points]);
    expect(warm.map((w) => w.sum! / w.count)).toEqual([10, 100]); // averaging those: 55
  });

  it('counter: a drop is a restart whose new value is the increase since it', () => {
    const stepMs = 15_000;
    const values = [5, 7, 10, 2, 4, 1];
    const points = values.map((v, k) => ({ t: T0 - stepMs + k * stepMs, v }));
    const base = { kind: 'counter' as const, stepMs, resolutionMs: 60_000, cuts: [] };
    const [w] = rollUp({ ...base, fromMs: T0, toMs: T0 + 60_000 }, [points]);
    // From the point at s - step (5): +2, +3, reset to 2 (+2), +2. The point at s + R is not in.
    expect(w).toEqual({
      series: 0,
      startMs: T0,
      count: 4,
      first: 7,
      last: 4,
      increase: 9,
      resets: 1,
    });
  });

  it("counter: a series' first point, and the first after a gap, add nothing", () => {
    const stepMs = 15_000;
    const points: Point[] = [
      { t: T0, v: 100 },
      { t: T0 + stepMs, v: 110 },
      { t: T0 + 3 * stepMs, v: 150 }, // T0 + 2 steps missing
    ];
    const base = { kind: 'counter' as const, stepMs, resolutionMs: 60_000, cuts: [] };
    const [w] = rollUp({ ...base, fromMs: T0, toMs: T0 + 60_000 }, [points]);
    expect(w!.increase).toBe(10);
    expect(w!.count).toBe(3);
  });

  it('ignores a point sent again (chunks that overlap by a point)', () => {
    const stepMs = 15_000;
    const points = [0, 1, 2, 3].map((k) => ({ t: T0 + k * stepMs, v: 10 * k }));
    const base = { kind: 'counter' as const, stepMs, resolutionMs: 60_000, fromMs: T0 };
    const out: Window[] = [];
    const acc = new RollupAccumulator<number>(base, (w) => out.push(snapshot('counter', 0, w)));
    const series = acc.series(0);
    acc.add(series, chunkBlocks([points], T0, T0 + 2 * stepMs)[0]!);
    acc.add(series, chunkBlocks([points], T0 + stepMs, T0 + 4 * stepMs)[0]!);
    acc.closeThrough(T0 + 60_000);
    expect(out).toEqual(rollUp({ ...base, toMs: T0 + 60_000, cuts: [] }, [points]));
    expect(out[0]).toMatchObject({ count: 4, increase: 30 });
  });

  it('emits nothing for a window without points, and nothing before fromMs', () => {
    const stepMs = 15_000;
    const points: Point[] = [
      { t: T0 - stepMs, v: 1 },
      { t: T0 + 120_000, v: 3 },
    ];
    const base = { kind: 'gauge' as const, stepMs, resolutionMs: 60_000, cuts: [] };
    const out = rollUp({ ...base, fromMs: T0, toMs: T0 + 180_000 }, [points]);
    expect(out.map((w) => [w.startMs - T0, w.count])).toEqual([[120_000, 1]]);
  });
  it('an adopted series, open in an earlier accumulator, closes and emits in the next one', () => {
    const stepMs = 15_000;
    const points = [0, 1, 2, 3, 4, 5].map((k) => ({ t: T0 + k * stepMs, v: k + 0.5 }));
    const base = { kind: 'gauge' as const, stepMs, resolutionMs: 60_000, fromMs: T0 };
    const out: Window[] = [];
    const emit = (w: WindowAggregate): number => out.push(snapshot('gauge', 0, w));
    // The first cycle sees the window's first two points; its window stays open.
    const first = new RollupAccumulator<number>(base, emit);
    const series = first.series(0);
    first.add(series, chunkBlocks([points], T0, T0 + 2 * stepMs)[0]!);
    first.closeThrough(T0 + stepMs);
    expect(out).toEqual([]);
    // The next cycle takes the series over and sees the rest.
    const next = new RollupAccumulator<number>(base, emit);
    next.adopt(series);
    next.add(series, chunkBlocks([points], T0 + 2 * stepMs, T0 + 6 * stepMs)[0]!);
    next.closeThrough(T0 + 120_000);
    expect(out).toEqual(rollUp({ ...base, toMs: T0 + 120_000, cuts: [] }, [points]));
    expect(out.map((w) => w.count)).toEqual([4, 2]);
  });

  it('an adopted series whose window the earlier accumulator left open is emitted once', () => {
    const stepMs = 15_000;
    const points = [0, 1].map((k) => ({ t: T0 + k * stepMs, v: k + 0.5 }));
    const base = { kind: 'gauge' as const, stepMs, resolutionMs: 60_000, fromMs: T0 };
    const out: Window[] = [];
    const first = new RollupAccumulator<number>(base, (w) => out.push(snapshot('gauge', 0, w)));
    const series = first.series(0);
    first.add(series, chunkBlocks([points], T0, T0 + 2 * stepMs)[0]!);
    const next = new RollupAccumulator<number>(base, (w) => out.push(snapshot('gauge', 0, w)));
    next.adopt(series);
    next.adopt(series);
    next.closeThrough(T0 + 60_000);
    expect(out.map((w) => w.count)).toEqual([2]);
  });
});
