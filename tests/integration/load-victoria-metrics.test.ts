import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startVictoriaMetrics, type VictoriaMetricsServer } from '../../scripts/lib/servers.js';
import type { InfluxSinkConfig } from '../../src/config/types.js';
import { createSink } from '../../src/load/create-sink.js';
import { DeadLetterFile } from '../../src/load/dead-letter.js';
import { InfluxDbV1Sink } from '../../src/load/influxdb-v1.js';
import { InfluxDbV2Sink } from '../../src/load/influxdb-v2.js';
import type { Sink } from '../../src/load/sink.js';
import type { LineBatch } from '../../src/core/line-batch.js';

const T0_MS = Date.now() - 3_600_000 - ((Date.now() - 3_600_000) % 1000);

describe('load stage → real VictoriaMetrics (/api/v2/write)', () => {
  let vm: VictoriaMetricsServer;
  let dir: string;
  const sinks: Sink[] = [];

  beforeAll(async () => {
    vm = await startVictoriaMetrics();
    dir = await mkdtemp(join(tmpdir(), 'promflux-load-vm-'));
  });
  afterAll(async () => {
    for (const sink of sinks) await sink.close();
    await vm?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function sinkConfig(overrides: Partial<InfluxSinkConfig> = {}): InfluxSinkConfig {
    return {
      endpoint: { url: vm.url, timeoutMs: 10_000, headers: {}, auth: { type: 'none' }, tls: {} },
      api: 'v2',
      bucket: 'metrics',
      org: 'promflux',
      batchSize: 5000,
      gzip: false,
      retry: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 10, multiplier: 1, jitter: 0 },
      ...overrides,
    };
  }

  const deps = () => ({
    deadLetter: new DeadLetterFile(join(dir, 'dl.jsonl')),
    logger: pino({ level: 'silent' }),
  });

  function batch(lines: string[], precision: 's' | 'ms'): LineBatch {
    return {
      body: Buffer.from(lines.join('\n') + '\n'),
      lines: lines.length,
      precision,
      query: 'health',
    };
  }

  it('writes via /api/v2/write; points read back exactly (values and ms timestamps)', async () => {
    const sink = new InfluxDbV2Sink(sinkConfig(), deps());
    sinks.push(sink);
    const lines = [
      `vm_health,instance=a,metric_type=up value=1 ${T0_MS}`,
      `vm_health,instance=a,metric_type=up value=0 ${T0_MS + 15_000}`,
      `vm_health,instance=b,metric_type=up value=0.125 ${T0_MS}`,
      `vm_health,instance=b,metric_type=up value=-2.5e-7 ${T0_MS + 15_001}`,
    ];
    expect(await sink.write(batch(lines, 'ms'))).toEqual({
      written: 4,
      rejected: 0,
      skippedBeyondRetention: 0,
      requests: 1,
      retries: 0,
    });
    await vm.flush();
    expect(await vm.exportSeries('{__name__="vm_health_value"}')).toEqual([
      {
        metric: { __name__: 'vm_health_value', instance: 'a', metric_type: 'up' },
        values: [1, 0],
        timestamps: [T0_MS, T0_MS + 15_000],
      },
      {
        metric: { __name__: 'vm_health_value', instance: 'b', metric_type: 'up' },
        values: [0.125, -2.5e-7],
        timestamps: [T0_MS, T0_MS + 15_001],
      },
    ]);
  });

  it('writes second precision, gzip and split batches', async () => {
    const sink = new InfluxDbV2Sink(sinkConfig({ gzip: true, batchSize: 40 }), deps());
    sinks.push(sink);
    const t0 = T0_MS / 1000;
    const lines = Array.from(
      { length: 100 },
      (_, i) => `vm_gz,instance=i${i % 2} value=${i} ${t0 + i}`,
    );
    const report = await sink.write(batch(lines, 's'));
    expect(report).toMatchObject({ written: 100, requests: 3 });
    await vm.flush();
    const series = await vm.exportSeries('{__name__="vm_gz_value"}');
    expect(series.map((s) => s.values.length)).toEqual([50, 50]);
    expect(series[0]!.timestamps[0]).toBe(T0_MS);
    expect(series[1]!.values.slice(0, 3)).toEqual([1, 3, 5]);
  });

  it('auto detection: no version on /ping → v2 with a token/org, else v1 (db label)', async () => {
    const v2 = await createSink(sinkConfig({ api: 'auto', token: 'unused-token' }), deps());
    sinks.push(v2);
    expect(v2).toBeInstanceOf(InfluxDbV2Sink);
    const v1 = await createSink(
      sinkConfig({ api: 'auto', org: undefined, bucket: 'vmdb' }),
      deps(),
    );
    sinks.push(v1);
    expect(v1).toBeInstanceOf(InfluxDbV1Sink);
    await v1.write(batch([`vm_v1,instance=z value=7 ${T0_MS}`], 'ms'));
    await vm.flush();
    expect(await vm.exportSeries('{__name__="vm_v1_value"}')).toEqual([
      {
        metric: { __name__: 'vm_v1_value', db: 'vmdb', instance: 'z' },
        values: [7],
        timestamps: [T0_MS],
      },
    ]);
  });

  it('check() says the server is not InfluxDB and skips InfluxDB-only look-ups', async () => {
    const sink = new InfluxDbV2Sink(sinkConfig(), deps());
    sinks.push(sink);
    expect(await sink.check()).toEqual({
      ok: true,
      details: [
        'reachable: no X-Influxdb-Version header on /ping (not InfluxDB itself, e.g. VictoriaMetrics); using the v2 API, /api/v2/write',
        'organization and bucket look-up skipped: only InfluxDB 2.x has /api/v2/orgs and /api/v2/buckets',
        'write access: ok',
      ],
    });
  });
});
