import { emptyDropCounts, type DropCounts } from '../../src/core/series.js';
import type { QueryRunResult } from '../../src/pipeline/run-query.js';

/**
 * A query run over [0, 60 s] that wrote `written` points to the sink `influxdb` (acknowledged
 * unless `error` is given), for tests of what observes runs: status, metrics, the status page.
 */
export function queryRun(
  query: string,
  written: number,
  error?: unknown,
  drops: Partial<DropCounts> = {},
): QueryRunResult {
  const dropped = Object.values(drops).reduce((sum, n) => sum + n, 0);
  return {
    query,
    range: { startMs: 0, endMs: 60_000 },
    chunks: 1,
    samples: written + dropped,
    points: written,
    series: 1,
    drops: { ...emptyDropCounts(), ...drops },
    histogramSamples: 0,
    sinks: {
      influxdb: { written, rejected: 0, skippedBeyondRetention: 0, requests: 1, retries: 0 },
    },
    tiers: {
      raw: {
        written,
        rejected: 0,
        skippedBeyondRetention: 0,
        watermarkMs: error ? undefined : 60_000,
      },
    },
    warnings: [],
    ackedThroughMs: error ? undefined : 60_000,
    error,
    durationMs: 12,
  };
}
