import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateHealthFixture } from '../../scripts/lib/openmetrics-fixture.js';
import { startPrometheus, type StartedServer } from '../../scripts/lib/servers.js';
import { QueryError } from '../../src/core/errors.js';
import { extractRange } from '../../src/extract/extract-range.js';
import { decodeMatrixReference } from '../support/matrix-reference.js';
import {
  formatPromSeconds,
  formatPromStep,
  PrometheusClient,
} from '../../src/extract/prometheus.js';
import type { MatrixResult, RangeRequest } from '../../src/extract/types.js';
import { normalize } from '../unit/extract/decode-helpers.js';
import { blockTimestamps, blockValues } from '../../src/core/series.js';

const STEP_MS = 15_000;
const FIXTURE_START = 1_699_999_980_000;
const FIXTURE_END = FIXTURE_START + 3 * 3_600_000;
const RANGE = { startMs: FIXTURE_START + 600_000, endMs: FIXTURE_END, stepMs: STEP_MS };

const QUERIES: Record<string, string> = {
  up: 'up',
  rate: 'rate(http_requests_total[1m])',
  sum_by_status: 'sum by (status) (rate(http_requests_total[5m]))',
  quantile:
    'histogram_quantile(0.9, sum by (le, instance) (rate(http_request_duration_seconds_bucket[5m])))',
  special_labels: 'test_special_labels',
  infinities: 'up / 0 or label_replace(-up / 0, "sign", "negative", "", "")',
  exponents: 'http_requests_total * 1e22 or http_requests_total / 1e12',
  empty: 'no_such_metric',
};

describe('extract stage → real Prometheus', () => {
  let prometheus: StartedServer;
  let client: PrometheusClient;
  let gzipClient: PrometheusClient;

  beforeAll(async () => {
    prometheus = await startPrometheus({
      openMetrics: generateHealthFixture({
        startMs: FIXTURE_START,
        endMs: FIXTURE_END,
        intervalMs: STEP_MS,
        instances: 3,
        specialLabels: true,
        nanEvery: 7,
      }),
    });
    const options = {
      endpoint: {
        url: prometheus.url,
        timeoutMs: 30_000,
        headers: {},
        auth: { type: 'none' as const },
        tls: {},
      },
      params: {},
      retry: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 10, multiplier: 1, jitter: 0 },
    };
    client = new PrometheusClient(options);
    gzipClient = new PrometheusClient({ ...options, compression: 'gzip' });
  });

  afterAll(async () => {
    client?.close();
    gzipClient?.close();
    await prometheus?.stop();
  });

  function request(name: string): RangeRequest {
    return { name, expr: QUERIES[name]!, ...RANGE };
  }

  /** The same request, read whole and decoded with JSON.parse. */
  async function referenceResult(req: RangeRequest): Promise<unknown> {
    const res = await fetch(`${prometheus.url}/api/v1/query_range`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        query: req.expr,
        start: formatPromSeconds(req.startMs),
        end: formatPromSeconds(req.endMs),
        step: formatPromStep(req.stepMs),
      }),
    });
    expect(res.status).toBe(200);
    return normalize(decodeMatrixReference(await res.text()));
  }

  it('serves the fixture', async () => {
    expect((await client.ready()).ready).toBe(true);
    expect((await client.buildInfo())?.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  for (const name of Object.keys(QUERIES)) {
    it(`streams exactly what JSON.parse reads: ${name}`, async () => {
      const req = request(name);
      const result = await client.queryRange(req);
      expect(normalize({ status: 'success', result })).toEqual(await referenceResult(req));
      if (name !== 'empty') expect(result.samples).toBeGreaterThan(0);
      const gzipped = await gzipClient.queryRange(req);
      expect(normalize({ status: 'success', result: gzipped })).toEqual(
        normalize({ status: 'success', result }),
      );
    });
  }

  it('decodes NaN, ±Inf and escaped labels from the real server', async () => {
    const inf = await client.queryRange(request('infinities'));
    const values = inf.series.flatMap((s) => Array.from(blockValues(s)));
    expect(values).toContain(Infinity);
    expect(values).toContain(-Infinity);
    expect(values.some((v) => Number.isNaN(v))).toBe(true);
    const special = await client.queryRange(request('special_labels'));
    const texts = special.series.map((s) => s.labels.text);
    expect(texts).toContain('line1\nline2');
    expect(texts).toContain('say "hi"');
    expect(texts).toContain('C:\\path\\to');
  });

  it('returns the same samples chunked as unchunked', async () => {
    for (const name of ['up', 'rate', 'quantile', 'special_labels']) {
      const req = request(name);
      const whole = bySeries([await client.queryRange(req)]);
      const parts: MatrixResult[] = [];
      let previousEnd = -Infinity;
      for await (const { chunk, result } of extractRange(client, req, {
        concurrency: 3,
        maxPointsPerSeries: 37,
        maxSamplesPerRequest: 1_000_000,
      })) {
        expect(chunk.startMs).toBeGreaterThan(previousEnd);
        previousEnd = chunk.endMs;
        parts.push(result);
      }
      expect(parts.length).toBeGreaterThan(10);
      expect(bySeries(parts)).toEqual(whole);
    }
  });

  it('fails a bad query once with bad_data, naming it', async () => {
    const req = { ...request('up'), name: 'broken', expr: 'rate(up[' };
    const err = await client.queryRange(req).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueryError);
    expect(err).toMatchObject({ code: 'QUERY_BAD_DATA', errorType: 'bad_data', query: 'broken' });
    expect((err as Error).message).toMatch(/^Query "broken" failed \(bad_data\): .*parse error/);
  });
});

/** Samples per series (keyed by labels), concatenated in result order, as exact strings. */
function bySeries(results: MatrixResult[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const r of results) {
    for (const s of r.series) {
      const key = JSON.stringify(Object.entries(s.labels).sort());
      const samples = (out[key] ??= []);
      const [ts, values] = [blockTimestamps(s), blockValues(s)];
      for (let i = 0; i < s.length; i++)
        samples.push(`${ts[i]}=${Object.is(values[i], -0) ? '-0' : values[i]}`);
    }
  }
  return out;
}
