/**
 * The stored-series reader against the real InfluxDB 1.6.7: points written as line protocol
 * (promflux's own encoder for the series keys) come back exactly, per series and field, for a
 * half-open range, in time chunks that cover it once, with InfluxQL's chunked answers crossed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInfluxV1, type InfluxV1Server } from '../../scripts/lib/servers.js';
import type { QueryConfig, TransformConfig } from '../../src/config/types.js';
import { Redactor } from '../../src/core/redact.js';
import {
  openStoredSeriesReader,
  storedSeriesQuery,
  type StoredSeriesQuery,
} from '../../src/extract/influxdb/index.js';
import { encodeSeriesKey } from '../../src/transform/line-protocol.js';
import { startEchoServer, echoRequest } from '../support/echo-server.js';
import { pointKey, readAll, readerConfig } from '../support/stored-series.js';

const USER = 'reader';
const PASSWORD = 'reader-secret-pw';
const STEP = 15_000;
const T0 = Date.UTC(2026, 10, 1);
// More points than one chunked answer object holds (10,000 rows): a series spans several.
const LONG = 25_000;

const TRANSFORM: TransformConfig = {
  validMetrics: [],
  measurement: 'health',
  field: 'value',
  labels: { drop: [], keep: [], rename: {} },
  staticTags: {},
  maxFutureSkewMs: 0,
};
const QUERY: QueryConfig = { name: 'availability', expr: 'up', stepMs: STEP, tags: {} };

interface Written {
  tags: Record<string, string>;
  ms: number;
  fields: Record<string, number>;
}

function lines(points: Written[], measurement = 'health'): string {
  return points
    .map((p) => {
      const fields = Object.entries(p.fields)
        .map(([k, v]) => `${k}=${Number.isInteger(v) && k.endsWith('count') ? `${v}i` : v}`)
        .join(',');
      return `${encodeSeriesKey(measurement, Object.entries(p.tags))} ${fields} ${p.ms}`;
    })
    .join('\n');
}

describe('stored-series reader on InfluxDB 1.6.7 (InfluxQL)', () => {
  let influx: InfluxV1Server;
  const raw: Written[] = [];

  beforeAll(async () => {
    influx = await startInfluxV1({ auth: { username: USER, password: PASSWORD } });
    await influx.createDatabase('metrics', { name: 'hot', duration: 'INF' });
    await influx.query('CREATE RETENTION POLICY "warm" ON "metrics" DURATION INF REPLICATION 1');
    const a = { metric_type: 'availability', service: 'api', instance: 'host-1:9100' };
    const b = {
      metric_type: 'availability',
      service: 'api',
      instance: 'host-2:9100',
      text: 'a,b c=d "e" Zürich 東京',
    };
    for (let i = 0; i < LONG; i++)
      raw.push({ tags: a, ms: T0 + i * STEP, fields: { value: i / 7 } });
    for (let i = 0; i < 300; i++)
      raw.push({ tags: b, ms: T0 + i * 2 * STEP, fields: { value: -i * 1e-300 } });
    const noise: Written[] = [
      // Another query in the same measurement, and the same query in another measurement.
      { tags: { ...a, metric_type: 'other' }, ms: T0 + STEP, fields: { value: 1 } },
    ];
    for (let i = 0; i < raw.length; i += 5000) {
      await influx.write(lines(raw.slice(i, i + 5000)), {
        db: 'metrics',
        rp: 'hot',
        precision: 'ms',
      });
    }
    await influx.write(lines(noise), { db: 'metrics', rp: 'hot', precision: 'ms' });
    await influx.write(lines([{ tags: a, ms: T0, fields: { value: 5 } }], 'elsewhere'), {
      db: 'metrics',
      rp: 'hot',
      precision: 'ms',
    });
  }, 120_000);
  afterAll(async () => {
    await influx?.stop();
  });

  const config = (overrides = {}) =>
    readerConfig(influx.url, { api: 'v1', username: USER, password: PASSWORD, ...overrides });

  it('reads one query’s raw points exactly, for a half-open range, in chunks that cover it once', async () => {
    const fromMs = T0 + 3 * STEP;
    const toMs = T0 + 24_000 * STEP; // a point of series a sits exactly there: left out
    const tier = { name: 'hot', bucket: 'metrics/hot', retentionMs: 0 };
    const query = storedSeriesQuery(QUERY, TRANSFORM, tier, { fromMs, toMs });
    expect(query).toEqual({
      bucket: 'metrics/hot',
      measurement: 'health',
      where: { metric_type: 'availability' },
      fields: ['value'],
      fromMs,
      toMs,
      intervalMs: STEP,
    });
    const reader = await openStoredSeriesReader(config(), {
      sizing: { maxSamplesPerChunk: 20_000, maxPointsPerSeries: 15_000 },
    });
    try {
      expect(reader.api).toBe('v1');
      const { points, chunks } = await readAll(reader, query);
      const expected = new Map(
        raw
          .filter((p) => p.ms >= fromMs && p.ms < toMs)
          .map((p) => [pointKey(p.tags, p.ms), [p.fields.value!]]),
      );
      expect(points.size).toBe(expected.size);
      expect(points).toEqual(expected);
      // Chunks: contiguous, from `from` to `to`; the first sized for 1,000 series, the next
      // for the two series the first one held (capped at 15,000 points).
      expect(chunks[0]).toEqual({ fromMs, toMs: T0 + 23 * STEP });
      expect(chunks[1]).toEqual({ fromMs: T0 + 23 * STEP, toMs: T0 + 10_023 * STEP });
      expect(chunks.at(-1)!.toMs).toBe(toMs);
      chunks.slice(1).forEach((c, i) => expect(c.fromMs).toBe(chunks[i]!.toMs));
    } finally {
      await reader.close();
    }
  }, 60_000);

  it('reads a rollup tier’s fields, integer and float, in the order of the tier’s kind', async () => {
    const tags = { metric_type: 'availability', service: 'api', instance: 'host-1:9100' };
    const windows: Written[] = [0, 1, 2].map((w) => ({
      tags,
      ms: T0 + w * 300_000,
      fields: {
        value_count: 20,
        value_sum: 10.5 + w,
        value_min: -w - 0.5,
        value_max: 3.25,
        value_last: 0.1,
        value_mean: (10.5 + w) / 20,
      },
    }));
    await influx.write(lines(windows), { db: 'metrics', rp: 'warm', precision: 'ms' });
    const tier = { name: 'warm', bucket: 'metrics/warm', retentionMs: 0, resolutionMs: 300_000 };
    const query = storedSeriesQuery(
      QUERY,
      TRANSFORM,
      tier,
      { fromMs: T0, toMs: T0 + 900_000 },
      'gauge',
    );
    expect(query.fields).toEqual([
      'value_count',
      'value_sum',
      'value_min',
      'value_max',
      'value_last',
      'value_mean',
    ]);
    const reader = await openStoredSeriesReader(config());
    try {
      const { points } = await readAll(reader, query);
      expect(points).toEqual(
        new Map(
          windows.map((w) => [pointKey(w.tags, w.ms), query.fields.map((f) => w.fields[f]!)]),
        ),
      );
    } finally {
      await reader.close();
    }
  });

  async function readError(q: StoredSeriesQuery, overrides = {}, redact?: Redactor) {
    const reader = await openStoredSeriesReader(
      config(overrides),
      redact && { redact: (t) => redact.redact(t) },
    );
    try {
      await readAll(reader, q);
    } catch (err) {
      return err as Error & { code: string };
    } finally {
      await reader.close();
    }
    throw new Error('the read succeeded');
  }

  const someQuery = (bucket: string): StoredSeriesQuery => ({
    bucket,
    measurement: 'health',
    where: { metric_type: 'availability' },
    fields: ['value'],
    fromMs: T0,
    toMs: T0 + STEP,
    intervalMs: STEP,
  });

  it('says which credentials or database failed, without the password', async () => {
    const denied = await readError(someQuery('metrics/hot'), { password: 'wrong-password' });
    expect(denied.code).toBe('SINK_AUTH');
    expect(denied.message).toContain(`InfluxDB at ${influx.url} refused`);
    expect(denied.message).not.toContain('wrong-password');
    const missing = await readError(someQuery('nodb/hot'));
    expect(missing.code).toBe('SINK_NOT_FOUND');
    expect(missing.message).toContain('database not found: nodb');
    const noPolicy = await readError(someQuery('metrics/cold'));
    expect(noPolicy.message).toContain('retention policy not found: cold');
  });

  it('redacts credentials a proxy echoes into its error', async () => {
    const echo = await startEchoServer((req) => ({ status: 502, body: echoRequest(req) }));
    try {
      const redactor = Redactor.of({
        secrets: [PASSWORD],
        basic: [{ username: USER, password: PASSWORD }],
      });
      const err = await readError(
        someQuery('metrics/hot'),
        {
          endpoint: {
            url: echo.url,
            timeoutMs: 5000,
            headers: {},
            auth: { type: 'none' },
            tls: {},
          },
        },
        redactor,
      );
      expect(echo.requests).toBe(1);
      expect(err.message).toContain('answered 502');
      expect(err.message).toContain('[REDACTED]');
      expect(err.message).not.toContain(Buffer.from(`${USER}:${PASSWORD}`).toString('base64'));
    } finally {
      await echo.stop();
    }
  });
});
