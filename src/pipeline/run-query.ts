import type { ExtractConfig, QueryConfig, TransformConfig } from '../config/types.js';
import { describeError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { emptyDropCounts, type DropCounts, type SeriesBlock } from '../core/series.js';
import { extractRange } from '../extract/extract-range.js';
import type { PrometheusClient } from '../extract/prometheus.js';
import type { Sink } from '../load/sink.js';
import type { LineBatch } from '../core/line-batch.js';
import { decideKind, type MetricKind } from '../core/metric-kind.js';
import type { RateLimiter } from '../core/rate-limiter.js';
import { lastGridPoint } from '../core/step-grid.js';
import { LEGACY_TIER_NAME } from '../config/tiers.js';
import { UsageError } from '../core/errors.js';
import { SeriesTransformer, type SeriesOutput } from '../transform/transform-series.js';
import {
  createTierWriter,
  type TierTarget,
  type TierTotals,
  type TierWriter,
} from './tier-writer.js';
import type { SinkTotals } from './write-window.js';

export type { TierTarget, TierTotals } from './tier-writer.js';

/** An inclusive range of evaluation times; the step grid inside it is what gets queried. */
export interface TimeRange {
  startMs: number;
  endMs: number;
}

export interface QueryRunOptions {
  query: QueryConfig;
  /** What to extract: with `tiers`, the union of their needs (see extractionFor). */
  range: TimeRange;
  /**
   * The tiers this run writes, each to its own sinks, all from the one extraction of `range`.
   * Without, the `sinks` of runQuery get the raw points of `range` (one raw tier, `raw`).
   */
  tiers?: readonly TierTarget[];
  /**
   * How rollup tiers treat the values (runQueries asks resolveQueryKinds); default: decided from
   * the query alone, without Prometheus' metadata.
   */
  kind?: MetricKind;
  /** A tier's watermark moved (see TierTotals.watermarkMs). */
  onTierAck?: (tier: string, watermarkMs: number) => void;
  extract: Pick<ExtractConfig, 'concurrency' | 'maxPointsPerSeries' | 'maxSamplesPerRequest'>;
  transform: TransformConfig;
  batchSize: number;
  /** Batches being written at once (across sinks a batch counts once). */
  maxWritesInFlight: number;
  signal?: AbortSignal;
  deadlineMs?: number;
  /** Called whenever every tier acknowledged every grid point up to and including this time. */
  onAck?: (ackedThroughMs: number) => void;
  /** Called after each chunk Prometheus returned, with its sample count (progress displays). */
  onSamples?: (samples: number) => void;
  logger: Logger;
  now?: () => number;
  /** Throttles writes (points per second) when set. */
  limiter?: Pick<RateLimiter, 'take'>;
  /**
   * What becomes of the unacknowledged part of a failed run, for the log line (the daemon's next
   * cycle retries it; `--once` keeps no watermark, so it tells the user what to run).
   */
  failureHint?: (unacknowledged: TimeRange) => string;
  /** Where the series go instead of line-protocol batches to the sinks. */
  seriesSink?: SeriesSink;
}

/**
 * Takes the clean series instead of the sinks (`promflux export`): the same extract and transform,
 * only where rows go differs. A chunk counts as acknowledged once `endChunk` resolved.
 */
export interface SeriesSink {
  /** One series' kept samples of a chunk; `block` is only valid until the promise resolves. */
  add(tags: readonly [string, string][], block: SeriesBlock): Promise<void>;
  /** Every series of the chunk ending at `endMs` (inclusive) was added. */
  endChunk(endMs: number): Promise<void>;
}

const DEFAULT_FAILURE_HINT = (): string => 'its unacknowledged range is retried next cycle';

export interface QueryRunResult {
  query: string;
  range: TimeRange;
  chunks: number;
  /** Samples Prometheus returned (NaN/Inf included, native histogram samples excluded). */
  samples: number;
  /** Points handed to the sinks after cleaning, filtering and de-duplication. */
  points: number;
  series: number;
  drops: DropCounts;
  histogramSamples: number;
  /** Per sink name, summed over the tiers writing to it. */
  sinks: Record<string, SinkTotals>;
  /** Per tier name. */
  tiers: Record<string, TierTotals>;
  warnings: string[];
  /** End of the contiguous prefix of the range every tier acknowledged, if any. */
  ackedThroughMs: number | undefined;
  error: unknown;
  durationMs: number;
}

/**
 * One query over one range, the same for `--once`, daemon cycles and backfill: extract chunks in
 * range order (prefetching a few), transform each into line-protocol batches, write them with a
 * bounded window, and report how far every sink acknowledged. A failure stops the query; what was
 * acknowledged before it stays acknowledged, the rest is for the next run to retry.
 */
export async function runQuery(
  client: Pick<PrometheusClient, 'queryRange'>,
  sinks: readonly Sink[],
  opts: QueryRunOptions,
): Promise<QueryRunResult> {
  const started = performance.now();
  const { query, range } = opts;
  const log = opts.logger.child({ query: query.name });
  const drops = emptyDropCounts();
  const warnings = new Set<string>();
  const now = opts.now ?? Date.now;
  const transformer = new SeriesTransformer(query, opts.transform, now);
  const targets = opts.tiers ?? [legacyTier(sinks, range)];
  const kind = rollupKind(query, targets, opts.kind);
  const ready: [TierWriter, LineBatch][] = [];
  const stepMs = query.stepMs;
  const lastPoint = lastGridPoint(range.endMs, stepMs);
  let ackedThroughMs: number | undefined;
  const writers: TierWriter[] = targets.map((target) =>
    createTierWriter(target, {
      query,
      field: query.field ?? opts.transform.field,
      kind: kind.kind ?? 'gauge',
      batchSize: opts.batchSize,
      maxWritesInFlight: opts.maxWritesInFlight,
      writeOptions: { signal: opts.signal, deadlineMs: opts.deadlineMs },
      emit: (writer, batch) => ready.push([writer, batch]),
      onAck: (writer) => {
        opts.onTierAck?.(writer.name, writer.watermarkMs!);
        // Every tier is through the least of their points; a tier done is done past its end.
        const through = Math.min(lastPoint, ...writers.map((w) => w.doneThroughMs));
        if (
          through >= range.startMs &&
          (ackedThroughMs === undefined || through > ackedThroughMs)
        ) {
          ackedThroughMs = through;
          opts.onAck?.(through);
        }
      },
    }),
  );
  const kept: [readonly [string, string][], SeriesBlock][] = [];
  const output: SeriesOutput = opts.seriesSink
    ? { append: (_prefix, block, tags) => kept.push([tags, block]) }
    : writers.length === 1
      ? writers[0]!
      : {
          // A loop, not forEach: its closure was a few dozen bytes of garbage per block.
          append: (prefix, block, tags, shared) => {
            for (let i = 0; i < writers.length; i++)
              writers[i]!.append(prefix, block, tags, shared);
          },
        };
  // A rollup must see two label sets of one InfluxDB series as shared from their first block on.
  const rollups = targets.some((t) => t.run.range.kind === 'rollup');
  const debug = log.isLevelEnabled('debug');
  let submitted = false;
  const failed = (): TierWriter | undefined => writers.find((w) => w.window.hasFailed);
  const submitReady = async (): Promise<void> => {
    let next: [TierWriter, LineBatch] | undefined;
    while ((next = ready.shift()) !== undefined) {
      await opts.limiter?.take(next[1].lines, opts.signal);
      await next[0].window.submit(next[1]);
      if (debug && !submitted) {
        const now = performance.now();
        log.debug(
          { uptimeMs: Math.round(now), sinceRunStartMs: Math.round(now - started) },
          'First write.',
        );
      }
      submitted = true;
    }
  };

  let chunks = 0;
  let samples = 0;
  let points = 0;
  let series = 0;
  let histogramSamples = 0;
  let error: unknown;
  try {
    if (kind.error !== undefined) throw new UsageError(kind.error);
    const stream = extractRange(
      client,
      {
        name: query.name,
        expr: query.expr,
        startMs: range.startMs,
        endMs: range.endMs,
        stepMs,
      },
      {
        concurrency: opts.extract.concurrency,
        maxPointsPerSeries: opts.extract.maxPointsPerSeries,
        maxSamplesPerRequest: opts.extract.maxSamplesPerRequest,
        signal: opts.signal,
        deadlineMs: opts.deadlineMs,
      },
    );
    for await (const { chunk, result } of stream) {
      chunks++;
      let whole = true;
      // Where the sink waits on promflux: no write in flight while this chunk was read and decoded.
      if (debug)
        log.debug(
          {
            chunk: chunks,
            samples: result.samples,
            writesInFlight: writers.reduce((n, w) => n + w.window.writesInFlight, 0),
            windowEmptied: writers.reduce((n, w) => n + w.window.emptied, 0),
            windowIdleMs: Math.round(writers.reduce((n, w) => n + w.window.idleMs, 0)),
            uptimeMs: Math.round(performance.now()),
          },
          'Chunk decoded.',
        );
      samples += result.samples;
      opts.onSamples?.(result.samples);
      series = Math.max(series, result.series.length);
      histogramSamples += result.histogramSamples ?? 0;
      for (const w of [...result.warnings, ...result.infos]) {
        if (!warnings.has(w)) {
          warnings.add(w);
          log.warn({ annotation: w }, 'Prometheus returned an annotation for this query.');
        }
      }
      const nowMs = now();
      for (const writer of writers) writer.beginChunk(chunk, nowMs);
      transformer.startChunk();
      if (rollups) transformer.encodeNew(result.series);
      for (const block of result.series) {
        points += transformer.processSeries(block, output, drops);
        for (const [tags, b] of kept.splice(0)) await opts.seriesSink!.add(tags, b);
        // Most series fill no batch: no promise for them (one per series and chunk added up).
        if (ready.length > 0) await submitReady();
        if (failed()) {
          whole = false;
          break;
        }
      }
      if (whole) {
        for (const writer of writers) writer.finishChunk();
        await submitReady();
      }
      await opts.seriesSink?.endChunk(chunk.endMs);
      // A chunk some series of which were left out is never sealed: no tier's watermark may pass
      // it, not even that of a tier whose writes all went through.
      if (whole) for (const writer of writers) writer.window.endChunk();
      // Batches are copies: once the transformer lets go of the blocks, the columns can be reused.
      transformer.endChunk();
      result.release?.();
      if (failed()) break;
    }
  } catch (err) {
    error = err;
  }
  for (const writer of writers) await writer.window.drain();
  if (error === undefined) error = failed()?.window.failure;
  if (error === undefined) for (const writer of writers) writer.finishRun();
  if (error !== undefined) {
    const unacknowledged = {
      startMs: ackedThroughMs === undefined ? range.startMs : ackedThroughMs + stepMs,
      endMs: range.endMs,
    };
    const hint = (opts.failureHint ?? DEFAULT_FAILURE_HINT)(unacknowledged);
    log.error({ err: describeError(error) }, `Query run failed; ${hint}.`);
  }
  return {
    query: query.name,
    range,
    chunks,
    samples,
    points,
    series,
    drops,
    histogramSamples,
    sinks: sumSinkTotals(writers),
    tiers: Object.fromEntries(writers.map((w) => [w.name, w.totals()])),
    warnings: [...warnings],
    ackedThroughMs,
    error,
    durationMs: performance.now() - started,
  };
}

/** What runQuery writes without `tiers`: the range's raw points to every sink. */
function legacyTier(sinks: readonly Sink[], range: TimeRange): TierTarget {
  return {
    run: {
      tier: { name: LEGACY_TIER_NAME, bucket: '', retentionMs: 0, retentionUnmanaged: true },
      range: { kind: 'raw', points: range },
    },
    sinks,
  };
}

/** The kind rollup tiers use: the one given, else decided from the query (gauge with no rollup). */
function rollupKind(
  query: QueryConfig,
  targets: readonly TierTarget[],
  given: MetricKind | undefined,
): { kind?: MetricKind; error?: string } {
  if (given !== undefined || !targets.some((t) => t.run.range.kind === 'rollup')) {
    return { kind: given ?? 'gauge' };
  }
  return decideKind(query.name, query.expr, query.kind ?? 'auto', undefined);
}

/** Each sink's totals, added over the tiers that share it (the dry run's stdout). */
function sumSinkTotals(writers: readonly TierWriter[]): Record<string, SinkTotals> {
  const out: Record<string, SinkTotals> = {};
  for (const writer of writers) {
    for (const [name, t] of writer.sinkTotals) {
      const sum = (out[name] ??= {
        written: 0,
        rejected: 0,
        requests: 0,
        retries: 0,
        skippedBeyondRetention: 0,
      });
      sum.written += t.written;
      sum.rejected += t.rejected;
      sum.requests += t.requests;
      sum.retries += t.retries;
      sum.skippedBeyondRetention += t.skippedBeyondRetention;
    }
  }
  return out;
}
