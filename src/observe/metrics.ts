import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

import { DROP_REASONS } from '../core/series.js';
import { VERSION } from '../core/version.js';
import type { ExportObserver } from '../pipeline/continuous-export.js';
import type { RequestObserver } from '../pipeline/pipeline.js';
import type { QueryRunResult } from '../pipeline/run-query.js';
import { tierLagMs, TierBook, type TierEntry } from './tier-book.js';

/** A tier's points of one query run, by outcome (QueryRunResult.tiers). */
export interface TierPointTotals {
  written: number;
  rejected: number;
  skippedBeyondRetention: number;
}

/** `2xx`..`5xx`, or `network` when no HTTP answer arrived (refused, reset, timed out). */
function statusClass(status: number | undefined): string {
  return status === undefined || status === 0 ? 'network' : `${Math.floor(status / 100)}xx`;
}

const LINT_FAILING_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/**
 * promflux's own metrics (prom-client), named after Prometheus conventions: prefix `promflux_`,
 * counters end in `_total`, durations in `_seconds`, times in `_timestamp_seconds`. Label values
 * are query and sink names from the config and bounded enums (drop reasons, error types): never
 * label values from the data, so cardinality stays that of the config.
 */
export class DaemonMetrics {
  readonly registry = new Registry();
  private readonly watermarks = new Map<string, number>();

  readonly samplesExtracted = this.counter(
    'promflux_samples_extracted_total',
    'Samples Prometheus returned.',
    ['query'],
  );
  readonly samplesDropped = this.counter(
    'promflux_samples_dropped_total',
    'Samples dropped before the sink, by reason.',
    ['query', 'reason'],
  );
  readonly pointsWritten = this.counter(
    'promflux_points_written_total',
    'Points the sink acknowledged.',
    ['query', 'sink'],
  );
  readonly deadLettered = this.counter(
    'promflux_lines_dead_lettered_total',
    'Lines the sink refused as malformed, written to the dead-letter file.',
    ['query', 'sink'],
  );
  readonly writeRequests = this.counter(
    'promflux_sink_write_requests_total',
    'Write requests, retries and split or bisected requests included.',
    ['sink'],
  );
  readonly writeRetries = this.counter(
    'promflux_sink_write_retries_total',
    'Write requests retried.',
    ['sink'],
  );
  readonly writeFailures = this.counter(
    'promflux_sink_write_failures_total',
    'Write requests that failed (retried ones included), by HTTP status class ("network" when no answer came) and reason: timeout, unreachable, tls, auth, rejected, http_4xx, http_5xx or other.',
    ['sink', 'status_class', 'reason'],
  );
  readonly writeDuration = new Histogram({
    name: 'promflux_sink_write_request_duration_seconds',
    help: 'Duration of one write request, from sending the body to the answer.',
    labelNames: ['sink'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly queryRuns = this.counter('promflux_query_runs_total', 'Query runs, by result.', [
    'query',
    'result',
  ]);
  readonly queryErrors = this.counter(
    'promflux_prometheus_query_errors_total',
    'Failed Prometheus range-query requests (retried ones included), by errorType.',
    ['query', 'error_type'],
  );
  readonly queryRequestDuration = new Histogram({
    name: 'promflux_prometheus_request_duration_seconds',
    help: 'Duration of one Prometheus range-query request, reading and decoding the response included.',
    labelNames: ['query'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly queryDuration = new Histogram({
    name: 'promflux_query_run_duration_seconds',
    help: 'Duration of one query over one cycle range: extract, transform and load.',
    labelNames: ['query'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });
  readonly cycleDuration = new Histogram({
    name: 'promflux_cycle_duration_seconds',
    help: 'Duration of daemon cycles.',
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900],
    registers: [this.registry],
  });
  readonly cycleOverruns = this.counter(
    'promflux_cycle_overruns_total',
    'Cycles that took longer than interval_seconds (the next one started late).',
    [],
  );
  readonly lastSuccess = this.gauge(
    'promflux_last_success_timestamp_seconds',
    'When a run of the query last succeeded.',
    ['query'],
  );
  readonly watermark = this.gauge(
    'promflux_watermark_timestamp_seconds',
    'The newest grid point every sink acknowledged, per query.',
    ['query'],
  );
  readonly backlog = this.gauge(
    'promflux_catchup_backlog_seconds',
    'Range still to extract when the last cycle ended (0 when caught up).',
    ['query'],
  );
  readonly gaps = this.counter(
    'promflux_gap_seconds_total',
    'Seconds of data skipped because they lay beyond max_catchup.',
    ['query', 'tier'],
  );
  readonly tierPoints = this.counter(
    'promflux_tier_points_total',
    'Points (rollup windows: one per series and window) per tier, by outcome: written, rejected (dead-lettered), or skipped_beyond_retention (older than the tier keeps, not sent or dropped by the server).',
    ['query', 'tier', 'outcome'],
  );
  readonly carryFallbacks = this.counter(
    'promflux_tier_carry_fallbacks_total',
    'Daemon cycles in which a rollup tier re-read its due windows from Prometheus instead of continuing the open windows it carried from the last cycle, by reason: no_carry (first since start or since the tier was added), failed_run, config_reload, lateness, rewrite_windows, max_catchup, discontinuous.',
    ['query', 'tier', 'reason'],
  );
  readonly exportWatermark = this.gauge(
    'promflux_export_watermark_timestamp_seconds',
    'load.export: end of the last hour exported, per query.',
    ['query'],
  );
  readonly exportFiles = this.counter(
    'promflux_export_files_written_total',
    'load.export: dataset files written (an hour written again after a crash counts again).',
    ['query'],
  );
  readonly exportRows = this.counter(
    'promflux_export_rows_written_total',
    'load.export: rows in the dataset files written.',
    ['query'],
  );

  constructor(
    private readonly now: () => number = Date.now,
    /** Where each query's tiers stand; the daemon keeps it up to date. */
    readonly tiers: TierBook = new TierBook(),
  ) {
    collectDefaultMetrics({ register: this.registry });
    // prom-client names these gauges `*_total`, which promtool check metrics rejects (a `_total`
    // suffix promises a counter); the per-type `nodejs_active_*` gauges say the same.
    for (const misnamed of LINT_FAILING_DEFAULTS) this.registry.removeSingleMetric(misnamed);
    new Gauge({
      name: 'promflux_build_info',
      help: 'promflux version and Node.js version (always 1).',
      labelNames: ['version', 'node_version'],
      registers: [this.registry],
    }).set({ version: VERSION, node_version: process.versions.node }, 1);
    const watermarks = this.watermarks;
    const clock = this.now;
    new Gauge({
      name: 'promflux_watermark_lag_seconds',
      help: 'How far the watermark is behind now, per query (includes pipeline.delay).',
      labelNames: ['query'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [query, ms] of watermarks) this.set({ query }, (clock() - ms) / 1000);
      },
    });
    this.tierGauge(
      'promflux_tier_watermark_seconds',
      "Where each tier stands (unix seconds): a raw tier's last acknowledged grid point, a rollup tier's end of its last acknowledged window.",
      (entry) => (entry.watermarkMs === undefined ? undefined : entry.watermarkMs / 1000),
    );
    this.tierGauge(
      'promflux_tier_lag_seconds',
      'Due data a tier has not acknowledged: from its watermark to the last grid point (raw) or window end (rollup) due by now - delay (- lateness for rollups); 0 when caught up.',
      (entry) =>
        entry.watermarkMs === undefined
          ? undefined
          : tierLagMs(entry.view, entry.watermarkMs, clock()) / 1000,
    );
    this.tierGauge(
      'promflux_tier_resolution_seconds',
      'The window length of each rollup tier a query feeds (raw tiers have none).',
      (entry) =>
        entry.view.resolutionMs === undefined ? undefined : entry.view.resolutionMs / 1000,
    );
  }

  /** Counts one query run's points per tier and outcome. */
  recordTierTotals(query: string, tiers: Readonly<Record<string, TierPointTotals>>): void {
    for (const [tier, totals] of Object.entries(tiers)) {
      this.tierPoints.inc({ query, tier, outcome: 'written' }, totals.written);
      this.tierPoints.inc({ query, tier, outcome: 'rejected' }, totals.rejected);
      this.tierPoints.inc(
        { query, tier, outcome: 'skipped_beyond_retention' },
        totals.skippedBeyondRetention,
      );
    }
  }

  /** A gauge per (query, tier) read from the tier book when scraped; undefined values are left out. */
  private tierGauge(
    name: string,
    help: string,
    value: (entry: TierEntry) => number | undefined,
  ): void {
    const tiers = this.tiers;
    new Gauge({
      name,
      help,
      labelNames: ['query', 'tier'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [query, entry] of tiers.entries()) {
          const v = value(entry);
          if (v !== undefined) this.set({ query, tier: entry.view.name }, v);
        }
      },
    });
  }

  setWatermark(query: string, ms: number): void {
    this.watermarks.set(query, ms);
    this.watermark.set({ query }, ms / 1000);
  }

  recordQueryRun(result: QueryRunResult): void {
    const query = result.query;
    this.samplesExtracted.inc({ query }, result.samples);
    for (const reason of DROP_REASONS) {
      if (result.drops[reason] > 0)
        this.samplesDropped.inc({ query, reason }, result.drops[reason]);
    }
    for (const [sink, totals] of Object.entries(result.sinks)) {
      this.pointsWritten.inc({ query, sink }, totals.written);
      this.deadLettered.inc({ query, sink }, totals.rejected);
    }
    this.queryDuration.observe({ query }, result.durationMs / 1000);
    const ok = result.error === undefined;
    this.queryRuns.inc({ query, result: ok ? 'ok' : 'error' });
    if (ok) this.lastSuccess.set({ query }, this.now() / 1000);
  }

  /** What the continuous export reports. */
  readonly exportObserver: ExportObserver = {
    onWatermark: (query, endMs) => this.exportWatermark.set({ query }, endMs / 1000),
    onFiles: (query, files) => {
      this.exportFiles.inc({ query }, files.length);
      this.exportRows.inc(
        { query },
        files.reduce((n, f) => n + f.rows, 0),
      );
    },
  };

  /** Per-request hooks for the pipeline's sinks and Prometheus client: counted as they happen. */
  readonly requestObserver: RequestObserver = {
    onSinkRequest: ({ sink, status, durationMs, failure }) => {
      this.writeRequests.inc({ sink });
      this.writeDuration.observe({ sink }, durationMs / 1000);
      if (failure !== undefined) {
        this.writeFailures.inc({ sink, status_class: statusClass(status), reason: failure });
      }
    },
    onSinkRetry: ({ sink }) => this.writeRetries.inc({ sink }),
    onQueryRequest: ({ query, durationMs, errorType }) => {
      this.queryRequestDuration.observe({ query }, durationMs / 1000);
      if (errorType !== undefined) this.queryErrors.inc({ query, error_type: errorType });
    },
  };

  private counter(name: string, help: string, labelNames: string[]): Counter {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  private gauge(name: string, help: string, labelNames: string[]): Gauge {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }
}
