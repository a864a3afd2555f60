import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  blockTimestamps,
  blockValues,
  emptyDropCounts,
  type SeriesBlock,
  type ValueText,
} from '../../../src/core/series.js';
import { dropInvalidSamples } from '../../../src/transform/clean.js';
import type { LineBatch } from '../../../src/core/line-batch.js';
import { SeriesDeduper } from '../../../src/transform/dedupe.js';
import { LineBatcher } from '../../../src/transform/line-batcher.js';
import { labelSetKey } from '../../../src/transform/transform-series.js';

/** Sentinel samples around every block's window: the stages must never touch them. */
const PAD = 3;
const SENTINEL = -7;

/** A block whose window sits inside larger columns, as the decoder's blocks do. */
function block(
  samples: Array<[number, number]>,
  nullValues = 0,
  valueText?: ValueText,
): SeriesBlock {
  const pad = Array<number>(PAD).fill(SENTINEL);
  return {
    labels: {},
    columns: {
      timestampsMs: Float64Array.from([...pad, ...samples.map((s) => s[0]), ...pad]),
      values: Float64Array.from([...pad, ...samples.map((s) => s[1]), ...pad]),
      ...(valueText && { valueText }),
    },
    offset: PAD,
    length: samples.length,
    nullValues,
  };
}
const samplesOf = (b: SeriesBlock) => {
  const [ts, values] = [blockTimestamps(b), blockValues(b)];
  return Array.from({ length: b.length }, (_, i) => [ts[i], values[i]]);
};
/** The columns outside the block's window are as they were. */
const outsideUntouched = (b: SeriesBlock) => {
  const { timestampsMs, values } = b.columns;
  const outside = (a: Float64Array) => [...a.subarray(0, PAD), ...a.subarray(a.length - PAD)];
  expect(outside(timestampsMs)).toEqual(Array<number>(2 * PAD).fill(SENTINEL));
  expect(outside(values)).toEqual(Array<number>(2 * PAD).fill(SENTINEL));
};

describe('dropInvalidSamples', () => {
  it('drops NaN, ±Inf, bad and future timestamps and counts each reason', () => {
    const b = block(
      [
        [1000, 1],
        [2000, NaN],
        [3000, Infinity],
        [4000, -Infinity],
        [-1000, 5],
        [5000.5, 6],
        [NaN, 7],
        [9_000_000, 8],
        [6000, -0.25],
      ],
      2,
    );
    const drops = emptyDropCounts();
    expect(dropInvalidSamples(b, { maxTimestampMs: 1_000_000 }, drops)).toBe(2);
    expect(samplesOf(b)).toEqual([
      [1000, 1],
      [6000, -0.25],
    ]);
    expect(drops).toMatchObject({
      nan: 1,
      inf: 2,
      invalid_timestamp: 3,
      future_timestamp: 1,
      null: 2,
    });
    expect(b.nullValues).toBe(0);
    outsideUntouched(b);
  });
});

/** A label set's own de-duplication state (one per Prometheus series). */
const labelSet = () => ({ newestEmitted: -Infinity });

describe('SeriesDeduper', () => {
  it('drops points a previous chunk already emitted for the same series', () => {
    const d = new SeriesDeduper();
    const drops = emptyDropCounts();
    const a = labelSet();
    d.startChunk();
    d.dedupe(
      d.series('a'),
      a,
      block([
        [1, 1],
        [2, 2],
        [3, 3],
      ]),
      drops,
    );
    d.startChunk();
    const overlap = block([
      [3, 3],
      [4, 4],
    ]);
    expect(d.dedupe(d.series('a'), a, overlap, drops)).toBe(1);
    expect(samplesOf(overlap)).toEqual([[4, 4]]);
    const other = block([[3, 30]]);
    expect(d.dedupe(d.series('b'), labelSet(), other, drops)).toBe(1);
    expect(drops).toMatchObject({ duplicate: 1, label_collision: 0 });
  });

  it('merges two series that map to the same key within a chunk, counting collisions', () => {
    const d = new SeriesDeduper();
    const drops = emptyDropCounts();
    d.startChunk();
    d.dedupe(
      d.series('k'),
      labelSet(),
      block([
        [10, 1],
        [30, 3],
      ]),
      drops,
    );
    const second = block([
      [10, 9],
      [20, 2],
      [30, 9],
      [40, 4],
    ]);
    expect(d.dedupe(d.series('k'), labelSet(), second, drops)).toBe(2);
    expect(samplesOf(second)).toEqual([
      [20, 2],
      [40, 4],
    ]);
    const third = block([
      [20, 0],
      [50, 5],
    ]);
    expect(d.dedupe(d.series('k'), labelSet(), third, drops)).toBe(1);
    expect(drops).toMatchObject({ duplicate: 0, label_collision: 3 });
  });

  it('keeps the first point of each timestamp when a block is out of order', () => {
    const d = new SeriesDeduper();
    const drops = emptyDropCounts();
    d.startChunk();
    const b = block([
      [2000, 2],
      [0, 0],
      [1000, 1],
      [1000, 1],
      [0, 9],
    ]);
    expect(d.dedupe(d.series('s'), labelSet(), b, drops)).toBe(3);
    expect(samplesOf(b)).toEqual([
      [2000, 2],
      [0, 0],
      [1000, 1],
    ]);
    expect(drops).toMatchObject({ duplicate: 2, label_collision: 0 });
    outsideUntouched(b);
  });

  it('keeps the first point of each timestamp in any order (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer()), { maxLength: 60 }),
        (samples) => {
          const d = new SeriesDeduper();
          const drops = emptyDropCounts();
          d.startChunk();
          const b = block(samples);
          const kept = d.dedupe(d.series('s'), labelSet(), b, drops);
          const firsts = samples.filter(([t], i) => samples.findIndex(([u]) => u === t) === i);
          expect(samplesOf(b)).toEqual(firsts);
          expect(kept).toBe(firsts.length);
          expect(drops.duplicate).toBe(samples.length - firsts.length);
          outsideUntouched(b);
        },
      ),
      { seed: 116, numRuns: 500 },
    );
  });

  it('emits every (series, timestamp) exactly once however the range is chunked', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.integer({ min: 0, max: 50 })), {
          maxLength: 200,
        }),
        fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 6 }),
        (points, cuts) => {
          // Chunks are consecutive, possibly overlapping time windows, as retries and edges produce.
          const edges = [...new Set([0, ...cuts, 51])].sort((x, y) => x - y);
          const d = new SeriesDeduper();
          const drops = emptyDropCounts();
          const own = { a: labelSet(), b: labelSet(), c: labelSet() };
          const emitted: string[] = [];
          for (let c = 0; c + 1 < edges.length; c++) {
            d.startChunk();
            const from = Math.max(0, edges[c]! - 2);
            for (const key of ['a', 'b', 'c'] as const) {
              const ts = [
                ...new Set(
                  points
                    .filter(([k, t]) => k === key && t >= from && t < edges[c + 1]!)
                    .map((p) => p[1]),
                ),
              ].sort((x, y) => x - y);
              const b = block(ts.map((t) => [t, t]));
              d.dedupe(d.series(key), own[key], b, drops);
              for (const t of blockTimestamps(b)) emitted.push(`${key}@${t}`);
              outsideUntouched(b);
            }
          }
          const expected = [...new Set(points.map(([k, t]) => `${k}@${t}`))].sort();
          expect([...emitted].sort()).toEqual(expected);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('value spellings through cleaning, de-duplication and encoding', () => {
  it('stay with their samples when arrays are compacted, and are what gets written', () => {
    // Spellings that differ from the formatted double ("2.50" vs 2.5) show which path wrote a line.
    const spellings = ['', '2.50', '', '3.750', '4.0', '5.00'];
    const bytes = Buffer.from(spellings.join(''), 'latin1');
    const start = new Uint32Array(spellings.length);
    const length = new Uint8Array(spellings.length);
    // Indexed like the value columns, which have PAD sentinels on each side.
    const padded = <T extends Uint32Array | Uint8Array>(a: T): T => {
      const out = new (a.constructor as new (n: number) => T)(a.length + 2 * PAD);
      out.set(a, PAD);
      return out;
    };
    let at = 0;
    spellings.forEach((s, i) => {
      start[i] = at;
      length[i] = s.length;
      at += s.length;
    });
    const b = block(
      [
        [1000, NaN],
        [2000, 2.5],
        [3000, 7],
        [3000, 3.75],
        [4000, 4],
        [5000, 5],
      ],
      0,
      { bytes, start: padded(start), length: padded(length) },
    );
    const drops = emptyDropCounts();
    dropInvalidSamples(b, { maxTimestampMs: Infinity }, drops);
    const deduper = new SeriesDeduper();
    deduper.startChunk();
    deduper.dedupe(deduper.series('m'), labelSet(), b, drops);
    expect(drops).toMatchObject({ nan: 1, duplicate: 1 });

    const batches: LineBatch[] = [];
    const batcher = new LineBatcher({ batchSize: 100, query: 'q', emit: (x) => batches.push(x) });
    batcher.append(Buffer.from('m value='), b);
    batcher.flush();
    expect(batches[0]!.body.toString()).toBe(
      'm value=2.50 2\nm value=7 3\nm value=4.0 4\nm value=5.00 5\n',
    );
  });
});

describe('labelSetKey', () => {
  it('tells apart label sets that naive separators would merge', () => {
    expect(labelSetKey({ a: '1\u0001b\u00002' })).not.toBe(labelSetKey({ a: '1', b: '2' }));
    expect(labelSetKey({ a: 'x', b: 'y' })).not.toBe(labelSetKey({ a: 'x1:by' }));
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.string(), { maxKeys: 4 }),
        fc.dictionary(fc.string(), fc.string(), { maxKeys: 4 }),
        (a, b) => {
          const same = JSON.stringify(Object.entries(a)) === JSON.stringify(Object.entries(b));
          expect(labelSetKey(a) === labelSetKey(b)).toBe(same);
        },
      ),
    );
  });
});
