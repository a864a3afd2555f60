import type { QueryConfig } from '../config/types.js';
import { BufferPool } from '../core/buffer-pool.js';
import type { LineBatch } from '../core/line-batch.js';
import type { MetricKind } from '../core/metric-kind.js';
import { retentionCutoffMs } from '../core/retention.js';
import { firstIndexAtOrAfter, type SeriesBlock } from '../core/series.js';
import { firstGridPoint, lastGridPoint } from '../core/step-grid.js';
import type { Chunk } from '../extract/types.js';
import type { Sink } from '../load/sink.js';
import { LineBatcher } from '../transform/line-batcher.js';
import { mergeByTime, type BlockPart } from '../transform/merge-blocks.js';
import { escapeTag } from '../transform/line-protocol.js';
import { RollupAccumulator, type RollupSeries } from '../transform/rollup.js';
import { RollupLineWriter } from '../transform/rollup-lines.js';
import type { SeriesOutput } from '../transform/transform-series.js';
import type { TimeRange } from './run-query.js';
import { pruneCarried, type TierCarry } from './tier-carry.js';
import type { TierRun } from './tier-runs.js';
import type { HalfOpenRange } from './windows.js';
import { WriteWindow, type SinkTotals } from './write-window.js';

/**
 * Encoded batches a tier may hold beyond the writes in flight: enough sink work (a few ms each) to
 * cover reading and decoding the next chunk, for ~0.65 MB each.
 */
const QUEUED_BATCHES = 4;

/** What one tier of a query run wrote. */
export interface TierTotals {
  /** Lines the tier's sink acknowledged (points, or rollup windows). */
  written: number;
  /** Lines the sink refused as malformed (dead-lettered). */
  rejected: number;
  /** Lines not sent, or dropped by the server, because they were beyond the tier's retention. */
  skippedBeyondRetention: number;
  /**
   * How far the tier is acknowledged: raw, the last grid point (inclusive); rollup, the end of the
   * last whole window (exclusive, a multiple of R). Undefined before the first acknowledgement.
   */
  watermarkMs: number | undefined;
}

/** One tier of a query run and the sinks its lines go to. */
export interface TierTarget {
  run: TierRun;
  sinks: readonly Sink[];
  /** A rollup run with a feed: the carry it continues and keeps (see tier-carry.ts). */
  carry?: TierCarry;
}

export interface TierWriterContext {
  query: QueryConfig;
  /** The query's field key (`value`): rollup fields are `<field>_<aggregate>`. */
  field: string;
  /** How rollups treat the query's values. */
  kind: MetricKind;
  batchSize: number;
  maxWritesInFlight: number;
  writeOptions: { signal?: AbortSignal; deadlineMs?: number };
  /** A batch of the tier is ready to be submitted to its write window. */
  emit: (writer: TierWriter, batch: LineBatch) => void;
  /** The tier's watermark moved forward. */
  onAck: (writer: TierWriter) => void;
}

/**
 * One tier's part of a query run: turns the clean blocks of each chunk into the tier's lines, in
 * its own batcher and write window, so that each tier has its own acknowledgement and watermark.
 * Points (raw) or windows (rollup) stamped before the tier's retention cutoff are not sent.
 */
export abstract class TierWriter implements SeriesOutput {
  readonly window: WriteWindow;
  protected readonly batcher: LineBatcher;
  protected readonly stepMs: number;
  protected cutoffMs = -Infinity;
  protected skipped = 0;
  /** The sub-block handed on when only part of a block is the tier's (reused). */
  protected readonly view = emptyView();
  watermarkMs: number | undefined;

  constructor(
    readonly run: TierRun,
    sinks: readonly Sink[],
    protected readonly ctx: TierWriterContext,
  ) {
    this.stepMs = ctx.query.stepMs;
    this.batcher = new LineBatcher({
      batchSize: ctx.batchSize,
      query: ctx.query.name,
      emit: (batch) => ctx.emit(this, batch),
      // Buffers in flight and queued, plus the one being filled and the batches waiting to be
      // submitted.
      pool: new BufferPool(ctx.maxWritesInFlight + QUEUED_BATCHES + 2),
    });
    this.window = new WriteWindow(
      sinks,
      ctx.maxWritesInFlight,
      ctx.writeOptions,
      (ms) => this.acknowledged(ms),
      QUEUED_BATCHES,
    );
  }

  get name(): string {
    return this.run.tier.name;
  }

  /** Call before the chunk's first block; `nowMs` places the retention cutoff. */
  beginChunk(chunk: Chunk, nowMs: number): void {
    this.cutoffMs = retentionCutoffMs(this.run.tier, nowMs) ?? -Infinity;
    this.window.beginChunk(this.chunkAck(chunk));
  }

  /** One series' clean, de-duplicated block of the current chunk (see SeriesOutput). */
  abstract append(
    prefix: Uint8Array,
    block: SeriesBlock,
    tags: readonly [string, string][],
    shared: boolean,
  ): void;

  /** Every block of the chunk was appended: what it completes becomes batches. */
  finishChunk(): void {
    this.batcher.flush();
  }

  /** The whole range was extracted and every write acknowledged (a rollup keeps its carry). */
  finishRun(): void {}

  /**
   * Every grid point up to this one is acknowledged by the tier (Infinity once the tier is done):
   * what the run's `onAck` takes the minimum of.
   */
  abstract get doneThroughMs(): number;

  totals(): TierTotals {
    let written = 0;
    let rejected = 0;
    let skipped = this.skipped;
    for (const t of this.window.totals.values()) {
      written += t.written;
      rejected += t.rejected;
      skipped += t.skippedBeyondRetention;
    }
    return { written, rejected, skippedBeyondRetention: skipped, watermarkMs: this.watermarkMs };
  }

  get sinkTotals(): ReadonlyMap<string, SinkTotals> {
    return this.window.totals;
  }

  /** The watermark the chunk moves the tier to once all its batches are acknowledged. */
  protected abstract chunkAck(chunk: Chunk): number;

  /** Whether an acknowledged chunk value is a watermark of the tier (not before its range). */
  protected abstract isWatermark(ms: number): boolean;

  private acknowledged(ms: number): void {
    if (!this.isWatermark(ms) || (this.watermarkMs !== undefined && ms <= this.watermarkMs)) return;
    this.watermarkMs = ms;
    this.ctx.onAck(this);
  }
}

/** A block's samples `[offset, offset + length)` of its columns, reused for sub-blocks. */
interface BlockView {
  labels: SeriesBlock['labels'];
  columns: SeriesBlock['columns'];
  offset: number;
  length: number;
  nullValues: number;
}

/** The part of `block` inside `[fromMs, toMs)`, as `view` (or `block` itself when all of it). */
function restrict(
  block: SeriesBlock,
  fromIndex: number,
  toIndex: number,
  view: BlockView,
): SeriesBlock {
  if (fromIndex === block.offset && toIndex === block.offset + block.length) return block;
  view.labels = block.labels;
  view.columns = block.columns;
  view.offset = fromIndex;
  view.length = Math.max(0, toIndex - fromIndex);
  view.nullValues = 0;
  return view;
}

function emptyView(): BlockView {
  return {
    labels: {},
    columns: { timestampsMs: new Float64Array(0), values: new Float64Array(0) },
    offset: 0,
    length: 0,
    nullValues: 0,
  };
}

/**
 * A raw tier: the points of its inclusive range, as today's lines (field `value`). Blocks are in
 * time order (Prometheus returns each series' samples so), so the range and the retention cutoff
 * are a binary search each, and a block inside both is encoded as it is.
 */
export class RawTierWriter extends TierWriter {
  private readonly points: TimeRange;
  private readonly firstPoint: number;
  private readonly lastPoint: number;

  constructor(
    run: TierRun & { range: { kind: 'raw' } },
    sinks: readonly Sink[],
    ctx: TierWriterContext,
  ) {
    super(run, sinks, ctx);
    this.points = run.range.points;
    this.firstPoint = firstGridPoint(this.points.startMs, this.stepMs);
    this.lastPoint = lastGridPoint(this.points.endMs, this.stepMs);
  }

  append(prefix: Uint8Array, block: SeriesBlock): void {
    const ts = block.columns.timestampsMs;
    const start = block.offset;
    const end = start + block.length;
    if (start === end) return;
    const { startMs, endMs } = this.points;
    let from = ts[start]! >= startMs ? start : firstIndexAtOrAfter(ts, startMs, start, end);
    const to = ts[end - 1]! <= endMs ? end : firstIndexAtOrAfter(ts, endMs + 1, from, end);
    if (from < to && ts[from]! < this.cutoffMs) {
      const kept = firstIndexAtOrAfter(ts, this.cutoffMs, from, to);
      this.skipped += kept - from;
      from = kept;
    }
    if (from < to) this.batcher.append(prefix, restrict(block, from, to, this.view));
  }

  get doneThroughMs(): number {
    const w = this.watermarkMs;
    if (this.firstPoint > this.lastPoint || (w !== undefined && w >= this.lastPoint)) {
      return Infinity;
    }
    return w ?? this.firstPoint - this.stepMs;
  }

  protected chunkAck(chunk: Chunk): number {
    return Math.min(chunk.endMs, this.lastPoint);
  }

  protected isWatermark(ms: number): boolean {
    return ms >= this.firstPoint;
  }
}

/**
 * A rollup tier: its whole windows, rolled up from the same clean blocks the raw tier gets (never
 * from another rollup). Each series keeps its open window across chunks, keyed by its encoded
 * measurement and tags (two label sets that map to the same tags are one series, as in InfluxDB).
 * The blocks of such a shared series may interleave in time within a chunk (each label set fills
 * the other's gaps), so they wait for the chunk's end and go in merged in time order: the windows
 * are the rollup of exactly the points the raw tier holds. After each chunk the windows it
 * completed are closed; the chunk acknowledges the tier through the last of them.
 */
export class RollupTierWriter extends TierWriter {
  private readonly windows: HalfOpenRange;
  private readonly resolutionMs: number;
  private readonly accumulator: RollupAccumulator<Uint8Array>;
  private readonly lines: RollupLineWriter;
  /** By the transformer's prefix object (the same every chunk), then by its bytes. */
  private readonly byPrefix = new Map<Uint8Array, RollupSeries<Uint8Array>>();
  private readonly byKey = new Map<string, RollupSeries<Uint8Array>>();
  /**
   * The series of the previous chunk's blocks in their order, and where this chunk is in it: every
   * chunk lists the series in the same order, so a block's series is found without hashing (the
   * map lookup missed the cache for most blocks).
   */
  private readonly orderPrefixes: Uint8Array[] = [];
  private readonly orderSeries: RollupSeries<Uint8Array>[] = [];
  private orderAt = 0;
  /** Bytes of ` <field>=` at the end of a prefix: the rest is the series key. */
  private readonly fieldSuffixBytes: number;
  private boundMs = -Infinity;
  /** The current chunk's parts of shared series (see above), by series. */
  private readonly sharedParts = new Map<RollupSeries<Uint8Array>, BlockPart[]>();
  /** The grid points rolled up, half-open: the feed, or the windows from the step before. */
  private readonly points: HalfOpenRange;
  private readonly feed: HalfOpenRange | undefined;

  constructor(
    run: TierRun & { range: { kind: 'rollup' } },
    sinks: readonly Sink[],
    ctx: TierWriterContext,
    private readonly carry?: TierCarry,
  ) {
    super(run, sinks, ctx);
    this.windows = run.range.windows;
    const { fromMs, toMs } = this.windows;
    this.feed = run.range.feed;
    this.points =
      this.feed ??
      (toMs > fromMs ? { fromMs: fromMs - this.stepMs, toMs } : { fromMs, toMs: fromMs });
    this.resolutionMs = run.tier.resolutionMs!;
    this.accumulator = new RollupAccumulator(
      {
        kind: ctx.kind,
        stepMs: this.stepMs,
        resolutionMs: this.resolutionMs,
        fromMs: this.windows.fromMs,
      },
      (w) => this.emitWindow(w),
    );
    this.lines = new RollupLineWriter(ctx.kind, ctx.field);
    this.fieldSuffixBytes = Buffer.byteLength(` ${escapeTag(ctx.field)}=`);
    for (const [key, series] of carry?.from?.series ?? []) {
      this.byKey.set(key, series);
      this.accumulator.adopt(series);
    }
  }

  append(
    prefix: Uint8Array,
    block: SeriesBlock,
    _tags: readonly [string, string][],
    shared: boolean,
  ): void {
    const ts = block.columns.timestampsMs;
    const start = block.offset;
    const end = start + block.length;
    const { fromMs: firstMs, toMs } = this.points;
    if (start === end || toMs <= firstMs) return;
    const from = ts[start]! >= firstMs ? start : firstIndexAtOrAfter(ts, firstMs, start, end);
    const to = ts[end - 1]! < toMs ? end : firstIndexAtOrAfter(ts, toMs, from, end);
    if (from >= to) return;
    const at = this.orderAt++;
    let series = this.orderSeries[at];
    if (this.orderPrefixes[at] !== prefix || series === undefined) {
      series = this.seriesOf(prefix);
      this.orderPrefixes[at] = prefix;
      this.orderSeries[at] = series;
    }
    if (!shared) {
      this.accumulator.add(series, restrict(block, from, to, this.view));
      return;
    }
    // The chunk's blocks stay valid until its end (the de-duplicator reads them too).
    const parts = this.sharedParts.get(series);
    if (parts) parts.push({ block, from, to });
    else this.sharedParts.set(series, [{ block, from, to }]);
  }

  override beginChunk(chunk: Chunk, nowMs: number): void {
    this.sharedParts.clear();
    this.orderAt = 0;
    super.beginChunk(chunk, nowMs);
  }

  override finishChunk(): void {
    for (const [series, parts] of this.sharedParts)
      this.accumulator.add(series, mergeByTime(parts));
    this.sharedParts.clear();
    this.accumulator.closeThrough(this.boundMs);
    super.finishChunk();
  }

  override finishRun(): void {
    const { feed } = this;
    if (!feed || !this.carry) return;
    pruneCarried(this.byKey, feed.toMs, this.stepMs);
    this.carry.keep({
      series: this.byKey,
      coveredToMs: feed.toMs,
      watermarkMs: Math.max(this.windows.fromMs, this.windows.toMs),
    });
  }

  get doneThroughMs(): number {
    const { fromMs, toMs } = this.windows;
    const w = this.watermarkMs;
    if (toMs <= fromMs || (w !== undefined && w >= toMs)) return Infinity;
    // The grid point before a window's start is also its counter predecessor.
    return (w ?? fromMs) - 2 * this.stepMs;
  }

  protected chunkAck(chunk: Chunk): number {
    // Windows ending by the grid point after the chunk have every point in: they close now.
    const end = Math.min(chunk.endMs + this.stepMs, this.windows.toMs);
    this.boundMs = lastGridPoint(end, this.resolutionMs);
    return this.boundMs;
  }

  protected isWatermark(ms: number): boolean {
    return ms > this.windows.fromMs;
  }

  private seriesOf(prefix: Uint8Array): RollupSeries<Uint8Array> {
    let series = this.byPrefix.get(prefix);
    if (series === undefined) {
      const key = prefix.subarray(0, prefix.length - this.fieldSuffixBytes);
      const text = Buffer.from(key.buffer, key.byteOffset, key.length).toString('latin1');
      series = this.byKey.get(text);
      if (series === undefined) {
        series = this.accumulator.series(key);
        this.byKey.set(text, series);
      }
      this.byPrefix.set(prefix, series);
    }
    return series;
  }

  private emitWindow(window: RollupSeries<Uint8Array>): void {
    if (window.startMs < this.cutoffMs) {
      this.skipped++;
      return;
    }
    this.lines.append(this.batcher, window.key, window);
  }
}

/** The writer for a tier run. */
export function createTierWriter(target: TierTarget, ctx: TierWriterContext): TierWriter {
  const { run, sinks } = target;
  return run.range.kind === 'raw'
    ? new RawTierWriter({ tier: run.tier, range: run.range }, sinks, ctx)
    : new RollupTierWriter({ tier: run.tier, range: run.range }, sinks, ctx, target.carry);
}
