import type { Writable } from 'node:stream';
import type { ExtractConfig, PromfluxConfig, QueryConfig, TierConfig } from '../config/types.js';
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
import { extractionFor, type TierRun } from './tier-runs.js';
import { resolveQueryKinds } from '../extract/metric-metadata.js';
import type { KindDecision } from '../core/metric-kind.js';
import type { TierCarry } from './tier-carry.js';
import type { TierTarget } from './tier-writer.js';

/**
 * Writes in flight per tier. Four rather than two: with a sink as fast as VictoriaMetrics, while
 * Prometheus takes the shared core promflux cannot answer an acknowledgement at once, and two
 * requests (a few ms of sink work) left the sink idle; four keep it busy (pinned bench).
 */
export const WRITES_IN_FLIGHT = 4;

export type DryRun = 'off' | 'print' | 'summary';

/**
 * The assembled pipeline: sinks opened first, the Prometheus client last; closed in reverse.
 * Every mode (`--once`, daemon cycles, backfill, dry run) drives the same `runQueries`.
 */
export interface Pipeline {
  readonly config: PromfluxConfig;
  readonly client: PrometheusClient;
  /** Every sink, once each (a dry run's tiers share one). */
  readonly sinks: readonly Sink[];
  /** The sink of each tier, by tier name (empty without sinks: `promflux export`). */
  readonly tierSinks: ReadonlyMap<string, Sink>;
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
  const tierSinks = new Map<string, Sink>();
  if (!opts.seriesSinksOnly && dryRun !== 'off') {
    // One stdout for every tier: rollup lines are told apart by their fields.
    const stdout = new StdoutSink(opts.stdout ?? process.stdout, dryRun === 'print');
    for (const tier of config.load.tiers) tierSinks.set(tier.name, stdout);
  } else if (!opts.seriesSinksOnly) {
    const deadLetter = new DeadLetterFile(config.load.deadLetterPath, { redactor: opts.redactor });
    try {
      for (const tier of config.load.tiers) {
        const sink = await createSink(
          { ...config.load.influxdb, bucket: tier.bucket },
          {
            deadLetter,
            logger,
            name: tierSinkName(tier, config.load.tiers),
            onRetry: opts.observer?.onSinkRetry,
            onRequest: opts.observer?.onSinkRequest,
          },
        );
        tierSinks.set(tier.name, sink);
      }
    } catch (err) {
      for (const sink of [...tierSinks.values()].reverse()) await sink.close();
      throw err;
    }
  }
  const sinks = [...new Set(tierSinks.values())];
  const client = createPrometheusClient(config.extract, config.extract.retry, {
    onRequest: opts.observer?.onQueryRequest,
    logger,
  });
  const perSecond = config.load.maxPointsPerSecond;
  return {
    config,
    client,
    sinks,
    tierSinks,
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

/**
 * A tier's sink name, for logs, metrics and dead letters: `influxdb` for the one raw tier of the
 * legacy `load.influxdb.bucket`, else `influxdb:<tier>`.
 */
export function tierSinkName(tier: TierConfig, tiers: readonly TierConfig[]): string {
  return tiers.length === 1 && tier.retentionUnmanaged ? 'influxdb' : `influxdb:${tier.name}`;
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
  /** Every tier of the query's run has acknowledged every grid point up to `ackedThroughMs`. */
  onAck?: (query: QueryConfig, ackedThroughMs: number) => void;
  /**
   * A tier's watermark moved: raw, the last grid point acknowledged (inclusive); rollup, the end
   * of the last acknowledged whole window (exclusive, a multiple of R).
   */
  onTierAck?: (query: QueryConfig, tier: string, watermarkMs: number) => void;
  /**
   * The tiers each query writes and over what; when given, `rangeFor` is not used for the query
   * and the extraction is their union (extractionFor). Without, a query writes the raw points of
   * `rangeFor` to the first raw tier it feeds.
   */
  tierRunsFor?: (query: QueryConfig) => TierRun[];
  /** The carry a rollup run with a feed continues and keeps (the daemon's, see tier-carry.ts). */
  carryFor?: (query: QueryConfig, run: TierRun) => TierCarry | undefined;
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
  let kinds: Map<string, KindDecision> | undefined;
  for (const query of queries) {
    if (opts.signal?.aborted || opts.noNewQueries?.aborted) break;
    const seriesSink = opts.seriesSinkFor?.(query);
    const runs = seriesSink ? undefined : tierRuns(pipeline, query, rangeFor, opts.tierRunsFor);
    // Asked only when a rollup needs it (one metadata request per client, cached).
    if (runs?.some((r) => r.range.kind === 'rollup')) {
      kinds ??= await resolveQueryKinds(pipeline.client, queries, pipeline.logger);
    }
    const result = await runQuery(pipeline.client, [], {
      query,
      range: runs ? extractionOf(runs, query, rangeFor) : rangeFor(query),
      tiers: runs?.map((run): TierTarget => {
        const sink = pipeline.tierSinks.get(run.tier.name);
        return { run, sinks: sink ? [sink] : [], carry: opts.carryFor?.(query, run) };
      }),
      extract: config.extract,
      transform: config.transform,
      batchSize: config.load.influxdb.batchSize,
      maxWritesInFlight: WRITES_IN_FLIGHT,
      signal: opts.signal,
      deadlineMs: opts.deadlineMs,
      onAck: opts.onAck ? (ms) => opts.onAck!(query, ms) : undefined,
      onTierAck: opts.onTierAck ? (tier, ms) => opts.onTierAck!(query, tier, ms) : undefined,
      onSamples: opts.onSamples ? (n) => opts.onSamples!(query, n) : undefined,
      failureHint: opts.failureHint && ((range) => opts.failureHint!(query, range)),
      limiter: pipeline.limiter,
      seriesSink,
      kind: kinds?.get(query.name)?.kind,
      logger: pipeline.logger,
    });
    results.push(result);
    opts.onResult?.(result);
  }
  return results;
}

/** The runs of a query: as told, or the raw points of its range to the first raw tier it feeds. */
function tierRuns(
  pipeline: Pipeline,
  query: QueryConfig,
  rangeFor: (query: QueryConfig) => TimeRange,
  tierRunsFor: ((query: QueryConfig) => TierRun[]) | undefined,
): TierRun[] {
  if (tierRunsFor) return tierRunsFor(query);
  const names = query.tiers;
  const raw = pipeline.config.load.tiers.find(
    (t) => t.resolutionMs === undefined && (names === undefined || names.includes(t.name)),
  );
  return raw ? [{ tier: raw, range: { kind: 'raw', points: rangeFor(query) } }] : [];
}

/** What to extract for the runs; a run with nothing to write extracts nothing (an empty range). */
function extractionOf(
  runs: readonly TierRun[],
  query: QueryConfig,
  rangeFor: (query: QueryConfig) => TimeRange,
): TimeRange {
  const extraction = extractionFor(runs, query.stepMs);
  if (extraction) return extraction;
  const first = runs[0]?.range;
  const startMs =
    first === undefined
      ? rangeFor(query).startMs
      : first.kind === 'raw'
        ? first.points.startMs
        : first.windows.fromMs;
  return { startMs, endMs: startMs - 1 };
}
