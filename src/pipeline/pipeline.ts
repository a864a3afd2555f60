import type { Writable } from 'node:stream';
import type { ExtractConfig, PromfluxConfig, QueryConfig } from '../config/types.js';
import type { Logger } from '../core/logger.js';
import {
  PrometheusClient,
  type PrometheusClientOptions,
  type QueryRequestEvent,
} from '../extract/prometheus.js';
import type { RequestEvent, RetryEvent } from '../load/sink.js';
import { createSink } from '../load/create-sink.js';
import { DeadLetterFile } from '../load/dead-letter.js';
import type { Sink } from '../load/sink.js';
import { StdoutSink } from '../load/stdout-sink.js';
import { RateLimiter } from '../core/rate-limiter.js';
import type { Redactor } from '../core/redact.js';
import { runQuery, type QueryRunResult, type SeriesSink, type TimeRange } from './run-query.js';

export type DryRun = 'off' | 'print' | 'summary';

/**
 * The assembled pipeline: sinks opened first, the Prometheus client last; closed in reverse.
 * Every mode (`--once`, daemon cycles, backfill, dry run) drives the same `runQueries`.
 */
export interface Pipeline {
  readonly config: PromfluxConfig;
  readonly client: PrometheusClient;
  readonly sinks: readonly Sink[];
  readonly logger: Logger;
  /** `load.max_points_per_second`, shared by every query of the pipeline. */
  readonly limiter: RateLimiter | undefined;
  close(): Promise<void>;
}

/** What the pipeline reports per HTTP request, as it happens (the daemon's metrics). */
export interface RequestObserver {
  onSinkRequest: (event: RequestEvent) => void;
  onSinkRetry: (event: RetryEvent) => void;
  onQueryRequest: (event: QueryRequestEvent) => void;
}

export interface OpenOptions {
  dryRun?: DryRun;
  stdout?: Writable;
  /** Told of every Prometheus and sink request as it happens (the daemon's metrics). */
  observer?: RequestObserver;
  /** The configuration's redactor, for what the pipeline writes to files (dead letters). */
  redactor: Redactor;
  /** No sinks: every query's rows go to `RunOptions.seriesSinkFor` (`promflux export`). */
  seriesSinksOnly?: boolean;
}

export async function openPipeline(
  config: PromfluxConfig,
  logger: Logger,
  opts: OpenOptions,
): Promise<Pipeline> {
  const dryRun = opts.dryRun ?? 'off';
  const sinks: Sink[] = opts.seriesSinksOnly
    ? []
    : dryRun === 'off'
      ? [
          await createSink(config.load.influxdb, {
            deadLetter: new DeadLetterFile(config.load.deadLetterPath, {
              redactor: opts.redactor,
            }),
            logger,
            name: 'influxdb',
            onRetry: opts.observer?.onSinkRetry,
            onRequest: opts.observer?.onSinkRequest,
          }),
        ]
      : [new StdoutSink(opts.stdout ?? process.stdout, dryRun === 'print')];
  const client = createPrometheusClient(config.extract, config.extract.retry, {
    onRequest: opts.observer?.onQueryRequest,
    logger,
  });
  const perSecond = config.load.maxPointsPerSecond;
  return {
    config,
    client,
    sinks,
    logger,
    limiter:
      dryRun === 'off' && !opts.seriesSinksOnly && perSecond !== undefined
        ? new RateLimiter(perSecond)
        : undefined,
    async close() {
      client.close();
      for (const sink of [...sinks].reverse()) await sink.close();
    },
  };
}

/** The Prometheus client for `extract` settings; `retry` overrides them (e.g. one attempt). */
export function createPrometheusClient(
  extract: ExtractConfig,
  retry: ExtractConfig['retry'] = extract.retry,
  hooks: Pick<PrometheusClientOptions, 'onRequest' | 'logger'> = {},
): PrometheusClient {
  return new PrometheusClient({
    endpoint: extract.endpoint,
    params: extract.params,
    retry,
    maxSeriesPerResponse: extract.maxSeriesPerResponse,
    ...hooks,
  });
}

export interface RunOptions {
  /** Abandons the running query (and starts no other). */
  signal?: AbortSignal;
  /** Starts no further query once aborted; the running one goes on (a graceful stop). */
  noNewQueries?: AbortSignal;
  deadlineMs?: number;
  onAck?: (query: QueryConfig, ackedThroughMs: number) => void;
  onSamples?: (query: QueryConfig, samples: number) => void;
  onResult?: (result: QueryRunResult) => void;
  /** See QueryRunOptions.failureHint. */
  failureHint?: (query: QueryConfig, unacknowledged: TimeRange) => string;
  /** Where a query's clean series go instead of the sinks (see QueryRunOptions.seriesSink). */
  seriesSinkFor?: (query: QueryConfig) => SeriesSink;
}

/** Runs each query over its range, one query at a time; a failing query does not stop the others. */
export async function runQueries(
  pipeline: Pipeline,
  queries: readonly QueryConfig[],
  rangeFor: (query: QueryConfig) => TimeRange,
  opts: RunOptions = {},
): Promise<QueryRunResult[]> {
  const { config } = pipeline;
  const results: QueryRunResult[] = [];
  for (const query of queries) {
    if (opts.signal?.aborted || opts.noNewQueries?.aborted) break;
    const result = await runQuery(pipeline.client, pipeline.sinks, {
      query,
      range: rangeFor(query),
      extract: config.extract,
      transform: config.transform,
      batchSize: config.load.influxdb.batchSize,
      maxWritesInFlight: 2,
      signal: opts.signal,
      deadlineMs: opts.deadlineMs,
      onAck: opts.onAck ? (ms) => opts.onAck!(query, ms) : undefined,
      onSamples: opts.onSamples ? (n) => opts.onSamples!(query, n) : undefined,
      failureHint: opts.failureHint && ((range) => opts.failureHint!(query, range)),
      limiter: pipeline.limiter,
      seriesSink: opts.seriesSinkFor?.(query),
      logger: pipeline.logger,
    });
    results.push(result);
    opts.onResult?.(result);
  }
  return results;
}
