import { describe, expect, it } from 'vitest';

import { describeSeriesLimits, plannedSeriesPerDatabase } from '../../../src/load/series-limits.js';

describe('plannedSeriesPerDatabase', () => {
  it('counts a query once per database, however many of its retention policies it feeds', () => {
    const planned = plannedSeriesPerDatabase([
      { series: 10, buckets: ['metrics/hot', 'metrics/warm', 'archive/cold'] },
      { series: 5, buckets: ['metrics/hot'] },
    ]);
    expect([...planned]).toEqual([
      ['metrics', 15],
      ['archive', 10],
    ]);
  });

  it('an unknown series count makes the database total unknown', () => {
    const planned = plannedSeriesPerDatabase([
      { series: 10, buckets: ['metrics'] },
      { series: undefined, buckets: ['metrics'] },
      { series: 3, buckets: ['other'] },
    ]);
    expect([...planned]).toEqual([
      ['metrics', undefined],
      ['other', 3],
    ]);
  });
});

describe('describeSeriesLimits', () => {
  it('within the limit, limits switched off, and an unknown count', () => {
    expect(
      describeSeriesLimits(
        {
          maxSeriesPerDatabase: 100,
          maxValuesPerTag: 0,
          databases: [
            { db: 'a', series: 40 },
            { db: 'b', unknown: 'not authorized' },
          ],
        },
        new Map([
          ['a', 60],
          ['b', undefined],
        ]),
      ),
    ).toEqual([
      'series limits: max-series-per-database 100, max-values-per-tag off (0)',
      'database "a": about 40 series now, this plan writes at most 60 series: within max-series-per-database 100',
      'database "b": series now unknown (not authorized), this plan writes an unknown number of series',
    ]);
  });

  it('says so when the server shows no limits', () => {
    expect(
      describeSeriesLimits({ limitsHidden: 'InfluxDB 2.x exposes none', databases: [] }, new Map()),
    ).toEqual(['series limits: not visible (InfluxDB 2.x exposes none)']);
  });
});
