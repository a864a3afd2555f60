import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seriesBlock } from '../../../src/core/series.js';
import {
  compareTables,
  formatDifference,
  rawExpectation,
  rollupExpectation,
  storedTags,
  WindowTable,
  type ExpectationSink,
} from '../../../src/pipeline/verify-windows.js';
import type { MetricKind } from '../../../src/core/metric-kind.js';
import { HOUR, T0, reference, seriesArb, type Point } from '../transform/rollup-helpers.js';
import '../../support/fast-check-seed.js';

const STEP = 60_000;
const tagsOf = (i: number): [string, string][] => [
  ['metric_type', 'q'],
  ['instance', `host-${i}`],
];

/** Feeds the series to `sink` in chunks cut at `cuts` (grid times), as runQuery would. */
async function feed(
  sink: ExpectationSink,
  series: Point[][],
  fromMs: number,
  toMs: number,
  cuts: number[],
): Promise<WindowTable> {
  const bounds = [
    fromMs,
    ...cuts.filter((c) => c > fromMs && c < toMs).sort((a, b) => a - b),
    toMs,
  ];
  for (let c = 1; c < bounds.length; c++) {
    for (const [i, points] of series.entries()) {
      const inside = points.filter(
        (p) => p.t >= bounds[c - 1]! && p.t < bounds[c]! && !Number.isNaN(p.v),
      );
      if (inside.length === 0) continue;
      const block = seriesBlock(
        {},
        inside.map((p) => p.t),
        inside.map((p) => p.v),
      );
      await sink.add(tagsOf(i), block);
    }
    await sink.endChunk(bounds[c]! - STEP);
  }
  return sink.finish();
}

describe('rawExpectation', () => {
  it('counts and sums the points per series and window, keyed by the tags InfluxDB stores', async () => {
    const sink = rawExpectation(HOUR);
    await sink.add(
      [
        ['metric_type', 'q'],
        ['path', 'C:\\'],
        ['empty', ''],
      ],
      seriesBlock({}, [T0, T0 + STEP, T0 + HOUR], [1, 2.5, 4]),
    );
    await sink.endChunk(T0 + HOUR);
    const table = sink.finish();
    expect([...table.series.values()]).toEqual([
      {
        // Sorted by key; the trailing backslash is stored as U+FF3C; the empty tag is gone.
        tags: [
          ['metric_type', 'q'],
          ['path', 'C:\uff3c'],
        ],
        windows: new Map([
          [T0, { count: 2, sum: 3.5 }],
          [T0 + HOUR, { count: 1, sum: 4 }],
        ]),
      },
    ]);
  });
});

describe('rollupExpectation', () => {
  it.each<MetricKind>(['gauge', 'counter'])(
    'gives every %s window the reference aggregates, however the range is cut',
    async (kind) => {
      const resolution = 5 * STEP;
      const windows = { fromMs: T0, toMs: T0 + 12 * resolution };
      await fc.assert(
        fc.asyncProperty(
          fc.array(seriesArb(kind, false, 12 * 5 + 1, STEP, T0 - STEP), {
            minLength: 1,
            maxLength: 3,
          }),
          fc.array(fc.integer({ min: 0, max: 12 * 5 }), { maxLength: 4 }),
          async (series, cutSteps) => {
            const table = await feed(
              rollupExpectation({
                kind,
                field: 'value',
                stepMs: STEP,
                resolutionMs: resolution,
                windows,
              }),
              series,
              windows.fromMs - STEP,
              windows.toMs,
              cutSteps.map((k) => T0 + k * STEP),
            );
            const want = reference(kind, STEP, resolution, windows.fromMs, windows.toMs, series);
            const got = want.map((w) =>
              table.series
                .get(JSON.stringify(storedTags(tagsOf(w.series), true)))
                ?.windows.get(w.startMs),
            );
            expect(got).toEqual(
              want.map((w) =>
                kind === 'gauge'
                  ? {
                      value_count: w.count,
                      value_sum: w.sum,
                      value_min: w.min,
                      value_max: w.max,
                      value_last: w.last,
                      value_mean: w.sum! / w.count,
                    }
                  : {
                      value_increase: w.increase,
                      value_resets: w.resets,
                      value_first: w.first,
                      value_last: w.last,
                      value_count: w.count,
                    },
              ),
            );
            const windowsHeld = [...table.series.values()].reduce((n, s) => n + s.windows.size, 0);
            expect(windowsHeld).toBe(want.length);
          },
        ),
        { numRuns: 60 },
      );
    },
  );
});

describe('compareTables', () => {
  const a = storedTags(tagsOf(1), false);
  const b = storedTags(tagsOf(2), false);

  it('agrees when both hold the same windows, floats summed in another order included', () => {
    const expected = new WindowTable(HOUR);
    const found = new WindowTable(HOUR);
    expected.addPoint(a, T0, 0.1);
    expected.addPoint(a, T0 + STEP, 0.2);
    expected.addPoint(a, T0 + 2 * STEP, 0.3);
    found.addPoint(a, T0 + 2 * STEP, 0.3);
    found.addPoint(a, T0 + STEP, 0.2);
    found.addPoint(a, T0, 0.1);
    expect(0.1 + 0.2 + 0.3).not.toBe(0.3 + 0.2 + 0.1);
    expect(compareTables(expected, found)).toEqual({
      windows: 1,
      seriesWindows: 1,
      differences: [],
    });
  });

  it('lists missing windows, extra series and differing fields, in window order', () => {
    const expected = new WindowTable(HOUR);
    const found = new WindowTable(HOUR);
    for (const t of [T0, T0 + HOUR, T0 + 2 * HOUR]) expected.addPoint(a, t, 2);
    found.addPoint(a, T0, 2);
    found.addPoint(a, T0 + 2 * HOUR, 3);
    found.addPoint(b, T0 + HOUR, 1);
    const { windows, seriesWindows, differences } = compareTables(expected, found);
    expect({ windows, seriesWindows }).toEqual({ windows: 3, seriesWindows: 4 });
    expect(differences).toEqual([
      {
        startMs: T0 + HOUR,
        endMs: T0 + 2 * HOUR,
        tags: a,
        fields: [
          { field: 'count', expected: 1, found: undefined },
          { field: 'sum', expected: 2, found: undefined },
        ],
      },
      {
        startMs: T0 + HOUR,
        endMs: T0 + 2 * HOUR,
        tags: b,
        fields: [
          { field: 'count', expected: undefined, found: 1 },
          { field: 'sum', expected: undefined, found: 1 },
        ],
      },
      {
        startMs: T0 + 2 * HOUR,
        endMs: T0 + 3 * HOUR,
        tags: a,
        fields: [{ field: 'sum', expected: 2, found: 3 }],
      },
    ]);
    expect(formatDifference(differences[0]!)).toBe(
      '2023-11-14T23:00:00.000Z/2023-11-15T00:00:00.000Z {instance="host-1", metric_type="q"}: ' +
        'count expected 1, found nothing; sum expected 2, found nothing',
    );
  });
});
