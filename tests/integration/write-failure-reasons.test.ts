/**
 * `promflux_sink_write_failures_total{reason}` against real answers: InfluxDB 1.6.7 (a wrong
 * password, a field type conflict), the fault proxy in front of it (a hung answer, a load
 * balancer's 503), a port nothing listens on, and the 2.x fake for what only 2.x answers (a
 * missing bucket's 404, a token without write permission's 403). The timeout and unreachable
 * reasons are the ones `/readyz` names for the same error, and no secret reaches a label.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { freePort, startInfluxV1, type InfluxV1Server } from '../../scripts/lib/servers.js';
import type { InfluxSinkConfig } from '../../src/config/types.js';
import type { LineBatch } from '../../src/core/line-batch.js';
import { DeadLetterFile } from '../../src/load/dead-letter.js';
import { influxSink } from '../../src/load/auto-api-sink.js';
import { WRITE_FAILURE_REASONS } from '../../src/load/write-failure-reason.js';
import { DaemonMetrics } from '../../src/observe/metrics.js';
import { outageCause } from '../../src/observe/outage-cause.js';
import { InfluxDbV2Fake } from '../fakes/influxdb-v2-fake.js';
import { startFaultProxy, type Fault, type FaultProxy } from '../support/fault-proxy.js';
import { plainEndpoint } from '../support/plain-endpoint.js';

const ADMIN = { username: 'promflux-admin', password: 'adm1n-pa55word-Qz7' };
const TOKEN = 'v2-token-never-in-labels-9Kd';
const NOW_S = Math.floor(Date.now() / 1000) - 3600;
const ONE_ATTEMPT = { maxAttempts: 1, initialDelayMs: 1, maxDelayMs: 1, multiplier: 1, jitter: 0 };

describe('promflux_sink_write_failures_total by reason, against real answers', () => {
  let influx: InfluxV1Server;
  let proxy: FaultProxy;
  let fake: InfluxDbV2Fake;
  let dir: string;
  let fault: Fault = { kind: 'pass' };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'promflux-failure-reasons-'));
    [influx, fake] = await Promise.all([
      startInfluxV1({ auth: ADMIN }),
      InfluxDbV2Fake.start({ token: TOKEN }),
    ]);
    await influx.createDatabase('health');
    proxy = await startFaultProxy({ targetPort: influx.port, decide: () => fault });
  });
  afterAll(async () => {
    await Promise.allSettled([influx?.stop(), fake?.stop(), proxy?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** One write through a fresh sink reporting to `metrics`; the error it failed with, if any. */
  async function write(
    metrics: DaemonMetrics,
    config: Partial<InfluxSinkConfig> & { url: string },
    line = `health_metrics,metric_type=up value=1 ${NOW_S}`,
  ): Promise<unknown> {
    const { url, ...overrides } = config;
    const sink = influxSink(
      overrides.api === 'v2' ? 'v2' : 'v1',
      {
        endpoint: { ...plainEndpoint(url), timeoutMs: 500 },
        api: 'v1',
        bucket: 'health',
        username: ADMIN.username,
        password: ADMIN.password,
        batchSize: 5000,
        gzip: false,
        retry: ONE_ATTEMPT,
        ...overrides,
      },
      {
        deadLetter: new DeadLetterFile(join(dir, 'dead-letter.jsonl')),
        logger: pino({ level: 'silent' }),
        name: 'influxdb',
        onRequest: metrics.requestObserver.onSinkRequest,
      },
    );
    const batch: LineBatch = {
      body: Buffer.from(`${line}\n`),
      lines: 1,
      precision: 's',
      query: 'q',
    };
    try {
      await sink.write(batch);
      return undefined;
    } catch (err) {
      return err;
    } finally {
      await sink.close();
    }
  }

  /** `reason` → count of the failures series of sink `influxdb`. */
  async function reasons(metrics: DaemonMetrics): Promise<Record<string, number>> {
    const text = await metrics.registry.metrics();
    expect(text).not.toContain(ADMIN.password);
    expect(text).not.toContain(TOKEN);
    const out: Record<string, number> = {};
    for (const m of text.matchAll(
      /^promflux_sink_write_failures_total\{sink="influxdb",status_class="[^"]+",reason="([^"]+)"\} (\d+)$/gm,
    )) {
      out[m[1]!] = (out[m[1]!] ?? 0) + Number(m[2]);
    }
    for (const reason of Object.keys(out)) expect(WRITE_FAILURE_REASONS).toContain(reason);
    return out;
  }

  it('timeout: a hung answer, as /readyz names it', async () => {
    const metrics = new DaemonMetrics();
    fault = { kind: 'stall', at: 0, headless: true };
    const err = await write(metrics, { url: proxy.url });
    fault = { kind: 'pass' };
    expect(outageCause(err)).toBe('the sink did not answer within the timeout');
    expect(await reasons(metrics)).toEqual({ timeout: 1 });
  });

  it('unreachable: nothing listens, as /readyz names it', async () => {
    const metrics = new DaemonMetrics();
    const err = await write(metrics, { url: `http://127.0.0.1:${await freePort()}` });
    expect(outageCause(err)).toBe('the sink is unreachable');
    expect(await reasons(metrics)).toEqual({ unreachable: 1 });
  });

  it('auth: InfluxDB 1.6.7 refuses a wrong password (401)', async () => {
    const metrics = new DaemonMetrics();
    const err = await write(metrics, { url: influx.url, password: 'not-the-password-Xy1' });
    expect(err).toBeInstanceOf(Error);
    expect(await reasons(metrics)).toEqual({ auth: 1 });
    expect(await metrics.registry.metrics()).not.toContain('not-the-password-Xy1');
  });

  it('rejected: InfluxDB 1.6.7 refuses a line whose field type conflicts (400)', async () => {
    const metrics = new DaemonMetrics();
    expect(
      await write(metrics, { url: influx.url }, `conflict,metric_type=up value="text" ${NOW_S}`),
    ).toBeUndefined();
    // Dead-lettered, not thrown: the batch is handled.
    expect(
      await write(metrics, { url: influx.url }, `conflict,metric_type=up value=1 ${NOW_S}`),
    ).toBeUndefined();
    expect(await reasons(metrics)).toEqual({ rejected: 1 });
  });

  it('http_5xx: a proxy in front of InfluxDB answers 503', async () => {
    const metrics = new DaemonMetrics();
    fault = { kind: 'status', status: 503 };
    await write(metrics, { url: proxy.url });
    fault = { kind: 'pass' };
    expect(await reasons(metrics)).toEqual({ http_5xx: 1 });
  });

  it('2.x only: a missing bucket (404) is http_4xx, a read-only token (403) auth', async () => {
    const metrics = new DaemonMetrics();
    const v2 = { url: fake.url, api: 'v2' as const, token: TOKEN, org: fake.org };
    expect(await write(metrics, { ...v2, bucket: 'no-such-bucket' })).toBeInstanceOf(Error);
    fake.failNext(1, { status: 403 });
    expect(await write(metrics, { ...v2, bucket: fake.bucket })).toBeInstanceOf(Error);
    expect(await reasons(metrics)).toEqual({ http_4xx: 1, auth: 1 });
  });
});
