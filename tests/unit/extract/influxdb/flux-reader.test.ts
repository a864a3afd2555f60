/**
 * The stored-series reader on InfluxDB 2.x: Flux through the client library's QueryApi, against
 * the fake's `/api/v2/query`, which answers annotated CSV from what was written to it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  openStoredSeriesReader,
  type StoredSeriesQuery,
} from '../../../../src/extract/influxdb/index.js';
import { fluxSelect } from '../../../../src/extract/influxdb/flux.js';
import { encodeSeriesKey } from '../../../../src/transform/line-protocol.js';
import { InfluxDbV2Fake } from '../../../fakes/influxdb-v2-fake.js';
import { mountQueryEndpoint, parseFluxSubset } from '../../../fakes/influxdb-v2-query.js';
import { pointKey, readAll, readerConfig } from '../../../support/stored-series.js';

const STEP = 15_000;
const T0 = Date.UTC(2026, 10, 1, 23, 0, 0);

describe('stored-series reader on InfluxDB 2.x (Flux, annotated CSV)', () => {
  let fake: InfluxDbV2Fake;

  beforeEach(async () => {
    fake = await InfluxDbV2Fake.start();
    mountQueryEndpoint(fake);
  });
  afterEach(async () => {
    await fake.stop();
  });

  async function write(text: string, bucket = fake.bucket): Promise<void> {
    const res = await fetch(
      `${fake.url}/api/v2/write?org=${fake.org}&bucket=${bucket}&precision=ms`,
      { method: 'POST', headers: { Authorization: `Token ${fake.token}` }, body: text },
    );
    expect(res.status).toBe(204);
  }

  const config = (overrides = {}) =>
    readerConfig(fake.url, { token: fake.token, org: fake.org, ...overrides });

  const query = (overrides: Partial<StoredSeriesQuery> = {}): StoredSeriesQuery => ({
    bucket: fake.bucket,
    measurement: 'health',
    where: { metric_type: 'availability' },
    fields: ['value'],
    fromMs: T0,
    toMs: T0 + 100 * STEP,
    intervalMs: STEP,
    ...overrides,
  });

  it('reads the raw points of one query exactly, awkward tag values included', async () => {
    const series: Record<string, string>[] = [
      { metric_type: 'availability', service: 'api', instance: 'h1' },
      { metric_type: 'availability', service: 'api', instance: 'h2', text: 'a,b c=d "e"' },
      { metric_type: 'availability', service: 'api', instance: 'h3', text: 'Zürich 東京 ${x}' },
    ];
    const expected = new Map<string, number[]>();
    const lines: string[] = [];
    series.forEach((tags, s) => {
      for (let i = -2; i <= 101; i++) {
        const ms = T0 + i * STEP;
        const value = (i * (s + 1)) / 3;
        lines.push(`${encodeSeriesKey('health', Object.entries(tags))} value=${value} ${ms}`);
        if (i >= 0 && i < 100) expected.set(pointKey(tags, ms), [value]);
      }
    });
    lines.push(`health,metric_type=other,instance=h1 value=1 ${T0}`);
    lines.push(`other,metric_type=availability,instance=h1 value=1 ${T0}`);
    await write(lines.join('\n'));
    const reader = await openStoredSeriesReader(config(), {
      sizing: { maxSamplesPerChunk: 90, maxPointsPerSeries: 1000 },
    });
    try {
      expect(reader.api).toBe('v2'); // `auto`: the fake's /ping says 2.x
      const { points, chunks } = await readAll(reader, query());
      expect(points).toEqual(expected);
      expect(chunks.length).toBeGreaterThan(3);
      expect(chunks.at(-1)!.toMs).toBe(T0 + 100 * STEP);
    } finally {
      await reader.close();
    }
    const queries = fake.requests.filter((r) => r.path === '/api/v2/query');
    expect(queries.length).toBeGreaterThan(3);
    expect(queries.every((r) => r.query.org === fake.org)).toBe(true);
  });

  it('reads rollup fields per window, lining up fields a window lacks with NaN', async () => {
    const tags = { metric_type: 'availability', instance: 'h1' };
    const key = encodeSeriesKey('health', Object.entries(tags));
    await write(
      [
        `${key} value_increase=1.5,value_resets=0i,value_first=1,value_last=2.5,value_count=20i ${T0}`,
        `${key} value_increase=3,value_resets=1i,value_first=0.5,value_last=3,value_count=19i ${T0 + 300_000}`,
        `${key} value_increase=4,value_count=2i ${T0 + 600_000}`,
      ].join('\n'),
    );
    const fields = ['value_increase', 'value_resets', 'value_first', 'value_last', 'value_count'];
    const reader = await openStoredSeriesReader(config({ api: 'v2' }));
    try {
      const { points } = await readAll(
        reader,
        query({ fields, intervalMs: 300_000, toMs: T0 + 900_000 }),
      );
      expect(points).toEqual(
        new Map([
          [pointKey(tags, T0), [1.5, 0, 1, 2.5, 20]],
          [pointKey(tags, T0 + 300_000), [3, 1, 0.5, 3, 19]],
          [pointKey(tags, T0 + 600_000), [4, NaN, NaN, NaN, 2]],
        ]),
      );
    } finally {
      await reader.close();
    }
  });

  it('the fake reads back the Flux the reader sends', () => {
    const text = fluxSelect(
      query({ where: { metric_type: 'a "b" \\ ${c}' }, fields: ['value_min', 'value_max'] }),
      { fromMs: T0, toMs: T0 + 1 },
    );
    expect(parseFluxSubset(text)).toEqual({
      bucket: fake.bucket,
      startNs: BigInt(T0) * 1_000_000n,
      stopNs: BigInt(T0 + 1) * 1_000_000n,
      measurement: 'health',
      tags: { metric_type: 'a "b" \\ ${c}' },
      fields: ['value_min', 'value_max'],
    });
  });

  async function readError(q: StoredSeriesQuery, overrides = {}) {
    const reader = await openStoredSeriesReader(config(overrides));
    try {
      await readAll(reader, q);
    } catch (err) {
      return err as Error & { code: string };
    } finally {
      await reader.close();
    }
    throw new Error('the read succeeded');
  }

  it('says what failed: token, bucket, missing org', async () => {
    const denied = await readError(query(), { token: 'not-the-token' });
    expect(denied.code).toBe('SINK_AUTH');
    expect(denied.message).toContain(`InfluxDB at ${fake.url} refused`);
    expect(denied.message).not.toContain('not-the-token');
    const missing = await readError(query({ bucket: 'nope' }));
    expect(missing.code).toBe('SINK_NOT_FOUND');
    expect(missing.message).toContain('could not find bucket "nope"');
    await expect(openStoredSeriesReader(config({ api: 'v2', org: undefined }))).rejects.toThrow(
      'Reading from InfluxDB 2.x needs load.influxdb.org',
    );
  });
});
