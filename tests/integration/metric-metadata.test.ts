/**
 * Query kinds from the metadata of a real Prometheus 2.42: a live scrape declares its metrics'
 * types, while data backfilled with promtool has none (the suffix rule decides).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrometheus, type StartedServer } from '../../scripts/lib/servers.js';
import type { QueryConfig } from '../../src/config/types.js';
import { resolveQueryKinds } from '../../src/extract/metric-metadata.js';
import { PrometheusClient } from '../../src/extract/prometheus.js';

// A gauge whose name ends in _total, and a counter without the suffix: only metadata gets both right.
const EXPOSITION = [
  '# HELP live_jobs Jobs done.',
  '# TYPE live_jobs counter',
  'live_jobs 7',
  '# HELP live_depth_total Items queued.',
  '# TYPE live_depth_total gauge',
  'live_depth_total 3',
  '',
].join('\n');

const BACKFILL_START_S = Math.floor(Date.now() / 1000) - 3600;
const BACKFILL = [
  '# TYPE backfilled_depth_total gauge',
  '# HELP backfilled_depth_total Items queued.',
  ...[0, 60, 120].map((s) => `backfilled_depth_total 1 ${BACKFILL_START_S + s}`),
  '# EOF',
  '',
].join('\n');

const query = (name: string, expr: string): QueryConfig => ({
  name,
  expr,
  stepMs: 15_000,
  tags: {},
  kind: 'auto',
});

describe('resolveQueryKinds → real Prometheus', () => {
  let target: http.Server;
  let prometheus: StartedServer;
  let client: PrometheusClient;

  beforeAll(async () => {
    target = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
      res.end(EXPOSITION);
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    const { port } = target.address() as AddressInfo;
    prometheus = await startPrometheus({
      openMetrics: BACKFILL,
      scrapeTargets: [{ job: 'live', target: `127.0.0.1:${port}`, intervalSeconds: 1 }],
    });
    client = new PrometheusClient({
      endpoint: {
        url: prometheus.url,
        timeoutMs: 10_000,
        headers: {},
        auth: { type: 'none' },
        tls: {},
      },
      params: {},
      retry: { maxAttempts: 1, initialDelayMs: 1, maxDelayMs: 1, multiplier: 1, jitter: 0 },
    });
    // Metadata exists once the first scrape is in.
    const deadline = Date.now() + 30_000;
    while (!(await client.metricMetadata()).has('live_jobs')) {
      if (Date.now() > deadline) throw new Error('Prometheus never scraped the target');
      await new Promise((r) => setTimeout(r, 200));
    }
  });
  afterAll(async () => {
    client?.close();
    await prometheus?.stop();
    await new Promise((r) => target?.close(r));
  });

  it('follows the live target’s declared types, and the suffix for backfilled data', async () => {
    const backfilled = await fetch(
      `${prometheus.url}/api/v1/query?query=backfilled_depth_total&time=${BACKFILL_START_S + 120}`,
    );
    const body = (await backfilled.json()) as { data: { result: unknown[] } };
    expect(body.data.result).toHaveLength(1);

    const kinds = await resolveQueryKinds(
      client,
      [
        query('jobs', 'live_jobs{job="live"}'),
        query('depth', 'live_depth_total'),
        query('old_depth', 'backfilled_depth_total'),
      ],
      pino({ level: 'silent' }),
    );
    expect(Object.fromEntries(kinds)).toEqual({
      jobs: { kind: 'counter', reason: 'metadata type counter' },
      depth: { kind: 'gauge', reason: 'metadata type gauge' },
      old_depth: {
        kind: 'counter',
        reason: 'name ends in _total; no metadata for backfilled_depth_total',
      },
    });
  });
});
