import { describe, expect, it } from 'vitest';
import { fluxSelect, fluxString } from '../../../../src/extract/influxdb/flux.js';
import { influxQlSelect, quoteString } from '../../../../src/extract/influxdb/influxql.js';
import { StoredSeriesCollector } from '../../../../src/extract/influxdb/series-columns.js';
import type { QueryConfig, TransformConfig } from '../../../../src/config/types.js';
import {
  storedSeriesQuery,
  type StoredSeriesQuery,
} from '../../../../src/extract/influxdb/stored-series.js';
import { nextTimeChunk } from '../../../../src/extract/influxdb/time-chunks.js';

const QUERY: StoredSeriesQuery = {
  bucket: 'metrics/hot',
  measurement: 'health',
  where: { metric_type: "it's" },
  fields: ['value_min', 'value_max'],
  fromMs: 0,
  toMs: 1000,
  intervalMs: 100,
};

describe('query texts', () => {
  it('InfluxQL: quoted names and values, half-open epoch-ms range, a series per tag set', () => {
    expect(influxQlSelect({ db: 'metrics', rp: 'hot' }, QUERY, { fromMs: 100, toMs: 700 })).toBe(
      `SELECT "value_min", "value_max" FROM "metrics"."hot"."health" WHERE "metric_type" = 'it\\'s' AND time >= 100ms AND time < 700ms GROUP BY *`,
    );
    // No retention policy: the database's default one (`db..measurement`).
    expect(influxQlSelect({ db: 'm' }, QUERY, { fromMs: 0, toMs: 1 })).toContain(
      'FROM "m".."health"',
    );
    expect(quoteString('a\\b')).toBe("'a\\\\b'");
  });

  it('Flux: escaped strings, RFC 3339 range bounds, one filter per concern', () => {
    expect(fluxSelect({ ...QUERY, bucket: 'b' }, { fromMs: 0, toMs: 1500 })).toBe(
      [
        'from(bucket: "b")',
        '  |> range(start: 1970-01-01T00:00:00.000Z, stop: 1970-01-01T00:00:01.500Z)',
        `  |> filter(fn: (r) => r._measurement == "health" and r["metric_type"] == "it's")`,
        '  |> filter(fn: (r) => r._field == "value_min" or r._field == "value_max")',
      ].join('\n'),
    );
    expect(fluxString('a"b\\c${d}\n')).toBe('"a\\"b\\\\c\\${d}\\n"');
  });
});

describe('nextTimeChunk', () => {
  const sizing = { maxSamplesPerChunk: 1000, maxPointsPerSeries: 50 };

  it('sizes a chunk by the series of the last one, ends on the interval grid, stops at the end', () => {
    // 1,000 series assumed at first: one interval.
    expect(nextTimeChunk(5, 10_000, 100, undefined, sizing)).toEqual({ fromMs: 5, toMs: 200 });
    expect(nextTimeChunk(200, 10_000, 100, 100, sizing)).toEqual({ fromMs: 200, toMs: 1200 });
    expect(nextTimeChunk(200, 10_000, 100, 1, sizing)).toEqual({ fromMs: 200, toMs: 5200 });
    expect(nextTimeChunk(9_900, 10_000, 100, 0, sizing)).toEqual({ fromMs: 9_900, toMs: 10_000 });
    expect(nextTimeChunk(10_000, 10_000, 100, 0, sizing)).toBeUndefined();
  });
});

describe('StoredSeriesCollector', () => {
  it('drops absent (empty) tags, sorts tags and series, shares one time column when fields agree', () => {
    const c = new StoredSeriesCollector(2);
    const b = c.seriesFor({ z: '1', a: 'b', gone: '' });
    const a = c.seriesFor({ a: 'a' });
    c.add(b, 0, 10, 1);
    c.add(b, 1, 10, 2);
    c.add(a, 0, 5, 3);
    c.add(a, 1, 6, 4);
    c.add(a, 0, 7, null);
    const [first, second] = c.build();
    expect(first!.tags).toEqual({ a: 'a' });
    expect([...first!.timestampsMs]).toEqual([5, 6]);
    expect(first!.fields.map((f) => [...f])).toEqual([
      [3, NaN],
      [NaN, 4],
    ]);
    expect(Object.keys(second!.tags)).toEqual(['a', 'z']);
    expect([...second!.timestampsMs]).toEqual([10]);
    expect(second!.fields.map((f) => [...f])).toEqual([[1], [2]]);
  });

  it('refuses points out of time order', () => {
    const c = new StoredSeriesCollector(1);
    const s = c.seriesFor({});
    c.add(s, 0, 10, 1);
    expect(() => c.add(s, 0, 10, 1)).toThrow('Stored points out of order');
  });
});

describe('storedSeriesQuery', () => {
  const transform = {
    measurement: 'health_metrics',
    field: 'value',
    staticTags: {},
  } as unknown as TransformConfig;
  const query: QueryConfig = { name: 'avail', expr: 'up', stepMs: 15_000, tags: {} };
  const range = { fromMs: 0, toMs: 60_000 };
  const raw = { name: 'hot', bucket: 'm/hot', retentionMs: 0 };
  const warm = { name: 'warm', bucket: 'm/warm', retentionMs: 0, resolutionMs: 300_000 };

  it('reads the measurement and metric_type promflux writes, the static tag winning as in the data model', () => {
    expect(storedSeriesQuery(query, transform, raw, range)).toEqual({
      bucket: 'm/hot',
      measurement: 'health_metrics',
      where: { metric_type: 'avail' },
      fields: ['value'],
      ...range,
      intervalMs: 15_000,
    });
    const custom = { ...query, measurement: 'm2', field: 'v', tags: { metric_type: 'mine' } };
    expect(storedSeriesQuery(custom, transform, warm, range, 'counter')).toMatchObject({
      bucket: 'm/warm',
      measurement: 'm2',
      where: { metric_type: 'mine' },
      fields: ['v_increase', 'v_resets', 'v_first', 'v_last', 'v_count'],
      intervalMs: 300_000,
    });
    const global = { ...transform, staticTags: { metric_type: 'all' } };
    expect(storedSeriesQuery(query, global, raw, range).where).toEqual({ metric_type: 'all' });
    expect(() => storedSeriesQuery(query, transform, warm, range)).toThrow(
      `Reading the rollup tier "warm" needs the query's kind.`,
    );
  });
});
