import { describe, expect, it } from 'vitest';

import { DaemonMetrics } from '../../../src/observe/metrics.js';
import { queryRun } from '../../support/query-run.js';

async function sample(metrics: DaemonMetrics, series: string): Promise<number | undefined> {
  const text = await metrics.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('DaemonMetrics.requestObserver', () => {
  it('counts sink requests, failures by status class and durations as they happen', async () => {
    const metrics = new DaemonMetrics();
    const { onSinkRequest, onSinkRetry } = metrics.requestObserver;
    const event = { sink: 'influxdb', query: 'cpu' };
    onSinkRequest({ ...event, status: 204, durationMs: 12 });
    onSinkRequest({ ...event, status: 503, durationMs: 40, failure: 'http_5xx' });
    onSinkRetry({ ...event, attempt: 1, delayMs: 100, status: 503, reason: 'busy' });
    onSinkRequest({ ...event, status: 429, durationMs: 3, failure: 'http_4xx' });
    onSinkRequest({ ...event, status: undefined, durationMs: 5000, failure: 'timeout' });

    expect(await sample(metrics, 'promflux_sink_write_requests_total{sink="influxdb"}')).toBe(4);
    expect(await sample(metrics, 'promflux_sink_write_retries_total{sink="influxdb"}')).toBe(1);
    const failures = (cls: string, reason: string) =>
      sample(
        metrics,
        `promflux_sink_write_failures_total{sink="influxdb",status_class="${cls}",reason="${reason}"}`,
      );
    expect(await failures('5xx', 'http_5xx')).toBe(1);
    expect(await failures('4xx', 'http_4xx')).toBe(1);
    expect(await failures('network', 'timeout')).toBe(1);
    expect(
      (await metrics.registry.metrics()).match(/^promflux_sink_write_failures_total\{/gm),
    ).toHaveLength(3);
    const duration = 'promflux_sink_write_request_duration_seconds';
    expect(await sample(metrics, `${duration}_count{sink="influxdb"}`)).toBe(4);
    expect(await sample(metrics, `${duration}_sum{sink="influxdb"}`)).toBeCloseTo(5.055, 6);
    expect(await sample(metrics, `${duration}_bucket{le="0.025",sink="influxdb"}`)).toBe(2);
  });

  it('counts Prometheus request errors by errorType and times every request', async () => {
    const metrics = new DaemonMetrics();
    const { onQueryRequest } = metrics.requestObserver;
    onQueryRequest({ query: 'cpu', durationMs: 30, errorType: 'timeout' });
    onQueryRequest({ query: 'cpu', durationMs: 20, errorType: 'timeout' });
    onQueryRequest({ query: 'cpu', durationMs: 250 });

    expect(
      await sample(
        metrics,
        'promflux_prometheus_query_errors_total{query="cpu",error_type="timeout"}',
      ),
    ).toBe(2);
    const duration = 'promflux_prometheus_request_duration_seconds';
    expect(await sample(metrics, `${duration}_count{query="cpu"}`)).toBe(3);
    expect(await sample(metrics, `${duration}_sum{query="cpu"}`)).toBeCloseTo(0.3, 6);
  });
});

describe('DaemonMetrics.recordQueryRun', () => {
  it('counts label collisions apart from duplicates', async () => {
    const metrics = new DaemonMetrics();
    metrics.recordQueryRun(queryRun('ids', 10, undefined, { duplicate: 2, label_collision: 3 }));
    const dropped = (reason: string) =>
      sample(metrics, `promflux_samples_dropped_total{query="ids",reason="${reason}"}`);
    expect(await dropped('duplicate')).toBe(2);
    expect(await dropped('label_collision')).toBe(3);
  });
});

describe('DaemonMetrics.exportObserver', () => {
  it('reports the export watermark in unix seconds and counts files and their rows', async () => {
    const metrics = new DaemonMetrics();
    const file = (rows: number) => ({
      path: 'p',
      rows,
      bytes: 1,
      sha256: 'x',
      fromMs: 0,
      toMs: 1,
      columns: [],
    });
    metrics.exportObserver.onFiles('cpu', [file(7200), file(3)]);
    metrics.exportObserver.onFiles('cpu', []);
    metrics.exportObserver.onWatermark('cpu', 1_764_550_800_000);
    const at = (name: string) => sample(metrics, `${name}{query="cpu"}`);
    expect(await at('promflux_export_files_written_total')).toBe(2);
    expect(await at('promflux_export_rows_written_total')).toBe(7203);
    expect(await at('promflux_export_watermark_timestamp_seconds')).toBe(1_764_550_800);
  });
});
