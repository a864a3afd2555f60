import { describe, expect, it } from 'vitest';
import type { QueryConfig, TierConfig, TransformConfig } from '../../../src/config/types.js';
import type { StoredChunk, StoredSeriesQuery } from '../../../src/extract/influxdb/index.js';
import type { VerifyCheck } from '../../../src/pipeline/verify.js';
import { StoredTierContents } from '../../../src/pipeline/verify-stored.js';

const HOUR = 3_600_000;
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % HOUR);
const query: QueryConfig = { name: 'up', expr: 'up', stepMs: 60_000, tags: {} };
const transform = {
  measurement: 'health',
  field: 'value',
  staticTags: {},
} as unknown as TransformConfig;
const hot: TierConfig = { name: 'hot', bucket: 'm/hot', retentionMs: 0 };
const warm: TierConfig = { name: 'warm', bucket: 'm/warm', retentionMs: 0, resolutionMs: 300_000 };

/** A reader that answers every query with `chunks`, and records the queries. */
function reader(chunks: StoredChunk[]) {
  const queries: StoredSeriesQuery[] = [];
  return {
    queries,
    // eslint-disable-next-line @typescript-eslint/require-await
    async *read(q: StoredSeriesQuery) {
      queries.push(q);
      yield* chunks;
    },
  };
}

const series = (tags: Record<string, string>, ts: number[], ...fields: number[][]) => ({
  tags,
  timestampsMs: Float64Array.from(ts),
  fields: fields.map((f) => Float64Array.from(f)),
});

describe('StoredTierContents', () => {
  it('counts and sums raw points per window, over the inclusive grid range', async () => {
    const r = reader([
      {
        fromMs: T0,
        toMs: T0 + HOUR,
        series: [series({ metric_type: 'up', host: 'a' }, [T0, T0 + 60_000], [1, 2])],
      },
      {
        fromMs: T0 + HOUR,
        toMs: T0 + 2 * HOUR,
        series: [series({ metric_type: 'up', host: 'a' }, [T0 + HOUR], [5])],
      },
    ]);
    const check: VerifyCheck = {
      query,
      tier: hot,
      kind: 'raw',
      points: { startMs: T0, endMs: T0 + 2 * HOUR - 60_000 },
      windowMs: HOUR,
    };
    const table = await new StoredTierContents(r, transform).read(check);
    expect(r.queries).toMatchObject([
      { bucket: 'm/hot', fields: ['value'], fromMs: T0, toMs: T0 + 2 * HOUR - 60_000 + 1 },
    ]);
    expect([...table.series.values()]).toEqual([
      {
        tags: [
          ['host', 'a'],
          ['metric_type', 'up'],
        ],
        windows: new Map([
          [T0, { count: 2, sum: 3 }],
          [T0 + HOUR, { count: 1, sum: 5 }],
        ]),
      },
    ]);
  });

  it("reads a rollup tier's fields per window, leaving out those a point lacks", async () => {
    const w = 300_000;
    const r = reader([
      {
        fromMs: T0,
        toMs: T0 + 3 * w,
        series: [
          series(
            { metric_type: 'up' },
            [T0, T0 + w, T0 + 2 * w],
            [5, NaN, NaN],
            [10, 4, NaN],
            [1, 1, NaN],
            [3, 3, NaN],
            [2, 3, NaN],
            [2, 2, NaN],
          ),
        ],
      },
    ]);
    const check: VerifyCheck = {
      query,
      tier: warm,
      kind: 'gauge',
      windows: { fromMs: T0, toMs: T0 + 3 * w },
      windowMs: w,
    };
    const table = await new StoredTierContents(r, transform).read(check);
    expect(r.queries[0]!.fields).toEqual([
      'value_count',
      'value_sum',
      'value_min',
      'value_max',
      'value_last',
      'value_mean',
    ]);
    expect([...table.series.values()][0]!.windows).toEqual(
      new Map([
        [
          T0,
          {
            value_count: 5,
            value_sum: 10,
            value_min: 1,
            value_max: 3,
            value_last: 2,
            value_mean: 2,
          },
        ],
        [T0 + w, { value_sum: 4, value_min: 1, value_max: 3, value_last: 3, value_mean: 2 }],
      ]),
    );
  });
});
