import type { ExtractConfig, QueryConfig, TransformConfig } from '../config/types.js';
import { describeError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { emptyDropCounts, type DropCounts, type SeriesBlock } from '../core/series.js';
import { extractRange } from '../extract/extract-range.js';
import type { PrometheusClient } from '../extract/prometheus.js';
import type { Sink } from '../load/sink.js';
import type { LineBatch } from '../core/line-batch.js';
import { BufferPool } from '../core/buffer-pool.js';
import type { RateLimiter } from '../core/rate-limiter.js';
import { LineBatcher } from '../transform/line-batcher.js';
import { SeriesTransformer, type SeriesOutput } from '../transform/transform-series.js';
import { WriteWindow, type SinkTotals } from './write-window.js';

/** An inclusive range of evaluation times; the step grid inside it is what gets queried. */
export interface TimeRange {
  startMs: number;
  endMs: number;
}

export interface QueryRunOptions {
  query: QueryConfig;
  range: TimeRange;
  extract: Pick<ExtractConfig, 'concurrency' | 'maxPointsPerSeries' | 'maxSamplesPerRequest'>;
  transform: TransformConfig;
  batchSize: number;
  /** Batches being written at once (across sinks a batch counts once). */
  maxWritesInFlight: number;
  signal?: AbortSignal;
  deadlineMs?: number;
  /** Called whenever every point up to and including this time is acknowledged by every sink. */
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
  sinks: Record<string, SinkTotals>;
  warnings: string[];
  /** End of the contiguous prefix of the range every sink acknowledged, if any. */
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
  const transformer = new SeriesTransformer(query, opts.transform, opts.now);
  const window = new WriteWindow(
    sinks,
    opts.maxWritesInFlight,
    { signal: opts.signal, deadlineMs: opts.deadlineMs },
    opts.onAck,
  );
  const ready: LineBatch[] = [];
  const batcher = new LineBatcher({
    batchSize: opts.batchSize,
    query: query.name,
    emit: (b) => ready.push(b),
    // Buffers in flight, plus the one being filled and the batches waiting to be submitted.
    pool: new BufferPool(opts.maxWritesInFlight + 2),
  });
  const kept: [readonly [string, string][], SeriesBlock][] = [];
  const output: SeriesOutput = opts.seriesSink
    ? { append: (_prefix, block, tags) => kept.push([tags, block]) }
    : batcher;
  const submitReady = async (): Promise<void> => {
    let batch: LineBatch | undefined;
    while ((batch = ready.shift()) !== undefined) {
      await opts.limiter?.take(batch.lines, opts.signal);
      await window.submit(batch);
    }
  };

  let chunks = 0;
  let samples = 0;
  let points = 0;
  let series = 0;
  let histogramSamples = 0;
  let error: unknown;
  try {
    const stream = extractRange(
      client,
      {
        name: query.name,
        expr: query.expr,
        startMs: range.startMs,
        endMs: range.endMs,
        stepMs: query.stepMs,
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
      window.beginChunk(chunk.endMs);
      transformer.startChunk();
      for (const block of result.series) {
        points += transformer.processSeries(block, output, drops);
        for (const [tags, b] of kept.splice(0)) await opts.seriesSink!.add(tags, b);
        // Most series fill no batch: no promise for them (one per series and chunk added up).
        if (ready.length > 0) await submitReady();
        if (window.hasFailed) break;
      }
      if (!window.hasFailed) {
        batcher.flush();
        await submitReady();
      }
      await opts.seriesSink?.endChunk(chunk.endMs);
      window.endChunk();
      // Batches are copies: once the transformer lets go of the blocks, the columns can be reused.
      transformer.endChunk();
      result.release?.();
      if (window.hasFailed) break;
    }
  } catch (err) {
    error = err;
  }
  await window.drain();
  if (error === undefined && window.hasFailed) error = window.failure;
  if (error !== undefined) {
    const acked = window.ackedThroughMs;
    const unacknowledged = {
      startMs: acked === undefined ? range.startMs : acked + query.stepMs,
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
    sinks: Object.fromEntries(window.totals),
    warnings: [...warnings],
    ackedThroughMs: window.ackedThroughMs,
    error,
    durationMs: performance.now() - started,
  };
}
