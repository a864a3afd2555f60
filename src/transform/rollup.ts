import type { MetricKind } from '../core/metric-kind.js';
import type { SeriesBlock } from '../core/series.js';

export type { MetricKind };

/**
 * One closed window of one series, as handed to `emit`. Gauges use count, sum, min, max, last
 * (mean = sum / count); counters use increase, resets, first, last, count.
 */
export interface WindowAggregate {
  readonly startMs: number;
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
  readonly first: number;
  readonly last: number;
  readonly increase: number;
  readonly resets: number;
}

/**
 * A series' open window in one tier: the only state a tier keeps per series. Its aggregate fields
 * are valid while `emit` runs; the accumulator reuses the object for the next window.
 */
export class RollupSeries<K> implements WindowAggregate {
  // Every number field starts as a double (not undefined or a small integer): V8 then keeps it
  // as a double in place, and a store allocates nothing. A field declared bare starts undefined,
  // and each store of a double then boxed a new heap number (a dozen per window).
  startMs = NaN;
  endMs = NaN;
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  first = NaN;
  last = NaN;
  increase = 0;
  resets = 0;
  /** The last point seen, a counter's predecessor. */
  prevMs = -Infinity;
  prevValue = NaN;
  /**
   * The accumulator that lists this series as having an open window, if any (its owner, not a
   * flag: a series carried into the next cycle's accumulator is listed there afresh).
   */
  listedBy: unknown = undefined;

  constructor(
    readonly key: K,
    firstWindowMs: number,
    resolutionMs: number,
  ) {
    // A window before the first one: it takes the predecessor points and is never emitted.
    this.startMs = firstWindowMs - resolutionMs;
    this.endMs = firstWindowMs;
  }
}

export interface RollupOptions {
  kind: MetricKind;
  stepMs: number;
  /** The window length R, a multiple of the step. */
  resolutionMs: number;
  /** Start of the first window this run may emit (a multiple of R); extraction starts a step before. */
  fromMs: number;
}

/**
 * Rolls one query's extracted step-grid points up into windows of one tier, streaming: series
 * blocks arrive chunk by chunk in range order (a series' points may be split across chunks) and
 * each series keeps only its open window. A window closes when its series moves past it or when
 * `closeThrough` says the data up to its end is in; then `emit` gets its aggregate (a window with
 * no point emits nothing).
 *
 * A window's output depends only on its own points and, for a counter, the point one step before
 * each of them: a point adds its reset-aware change from the point at `t - step` (a drop means a
 * restart, and the new value is the increase since it), and adds 0 when there is no point there
 * (the series' first point, or the first after a gap). So however a range is cut into chunks,
 * cycles or restarts, and whatever the resolution, each window's increase is the same and
 * windows' increases add up to the range's.
 *
 * Blocks must be cleaned (no NaN / Inf) and start at `fromMs - step` or later. A point later than
 * the next `closeThrough` bound closes the windows before it: only feed points past the cutoff
 * when every window they close is due. Points not after the series' previous point are ignored.
 */
export class RollupAccumulator<K> {
  /**
   * Series with an open window, in the order they were listed (an array and an owner mark on the
   * series rather than a Set: a chunk lists and unlists every series, and hashing each cost more).
   */
  private readonly open: RollupSeries<K>[] = [];
  private readonly isCounter: boolean;

  constructor(
    private readonly opts: RollupOptions,
    private readonly emit: (window: RollupSeries<K>) => void,
  ) {
    this.isCounter = opts.kind === 'counter';
  }

  /** A new series' state, for the whole run: pass it with each of its blocks. */
  series(key: K): RollupSeries<K> {
    return new RollupSeries(key, this.opts.fromMs, this.opts.resolutionMs);
  }

  /** Adds a block of the series' points (ascending timestamps). */
  add(series: RollupSeries<K>, block: SeriesBlock): void {
    if (block.length === 0) return;
    if (this.isCounter) this.addCounter(series, block);
    else this.addGauge(series, block);
    if (series.listedBy !== this) {
      series.listedBy = this;
      this.open.push(series);
    }
  }

  /** Closes and emits every open window that ends at or before `boundMs`. */
  closeThrough(boundMs: number): void {
    const open = this.open;
    let kept = 0;
    for (let i = 0; i < open.length; i++) {
      const series = open[i]!;
      if (series.endMs <= boundMs) {
        this.seal(series);
        series.count = 0;
        series.listedBy = undefined;
      } else {
        open[kept++] = series;
      }
    }
    open.length = kept;
  }

  /**
   * Takes over a series' state from an earlier run over the range just before this one's (a
   * daemon cycle's carry): its open window, if it has points, closes and emits as if this run had
   * seen them. Blocks of the series must then start after the points that fed it.
   */
  adopt(series: RollupSeries<K>): void {
    if (series.count > 0 && series.listedBy !== this) {
      series.listedBy = this;
      this.open.push(series);
    }
  }

  /** Series with an open window (a bound on the state held between chunks). */
  get openSeries(): number {
    return this.open.length;
  }

  // The loops keep the open window's aggregates in locals (the object is written once per block
  // and before each seal): same operations in the same order, so the same doubles.
  private addGauge(s: RollupSeries<K>, block: SeriesBlock): void {
    const { timestampsMs: ts, values } = block.columns;
    const end = block.offset + block.length;
    let prevMs = s.prevMs;
    let endMs = s.endMs;
    let count = s.count;
    let sum = s.sum;
    let min = s.min;
    let max = s.max;
    let first = s.first;
    let last = s.last;
    for (let i = block.offset; i < end; i++) {
      const t = ts[i]!;
      if (!(t > prevMs)) continue;
      const v = values[i]!;
      prevMs = t;
      if (t >= endMs) {
        s.count = count;
        s.sum = sum;
        s.min = min;
        s.max = max;
        s.first = first;
        s.last = last;
        this.seal(s);
        this.restart(s, t);
        endMs = s.endMs;
        count = 0;
        sum = 0;
        min = Infinity;
        max = -Infinity;
        first = NaN;
        last = NaN;
      }
      if (count === 0) first = v;
      count++;
      sum += v;
      if (v < min) min = v;
      if (v > max) max = v;
      last = v;
    }
    s.count = count;
    s.sum = sum;
    s.min = min;
    s.max = max;
    s.first = first;
    s.last = last;
    s.prevMs = prevMs;
  }

  private addCounter(s: RollupSeries<K>, block: SeriesBlock): void {
    const { timestampsMs: ts, values } = block.columns;
    const end = block.offset + block.length;
    const stepMs = this.opts.stepMs;
    let prevMs = s.prevMs;
    let prevValue = s.prevValue;
    let endMs = s.endMs;
    let count = s.count;
    let increase = s.increase;
    let resets = s.resets;
    let first = s.first;
    let last = s.last;
    for (let i = block.offset; i < end; i++) {
      const t = ts[i]!;
      if (!(t > prevMs)) continue;
      const v = values[i]!;
      if (t >= endMs) {
        s.count = count;
        s.increase = increase;
        s.resets = resets;
        s.first = first;
        s.last = last;
        this.seal(s);
        this.restart(s, t);
        endMs = s.endMs;
        count = 0;
        increase = 0;
        resets = 0;
        first = NaN;
        last = NaN;
      }
      if (t - prevMs === stepMs) {
        if (v >= prevValue) {
          increase += v - prevValue;
        } else {
          increase += v;
          resets++;
        }
      }
      if (count === 0) first = v;
      count++;
      last = v;
      prevMs = t;
      prevValue = v;
    }
    s.count = count;
    s.increase = increase;
    s.resets = resets;
    s.first = first;
    s.last = last;
    s.prevMs = prevMs;
    s.prevValue = prevValue;
  }

  private seal(s: RollupSeries<K>): void {
    if (s.count > 0 && s.startMs >= this.opts.fromMs) this.emit(s);
  }

  private restart(s: RollupSeries<K>, t: number): void {
    const r = this.opts.resolutionMs;
    s.startMs = Math.floor(t / r) * r;
    s.endMs = s.startMs + r;
    s.count = 0;
    s.sum = 0;
    s.min = Infinity;
    s.max = -Infinity;
    s.first = NaN;
    s.last = NaN;
    s.increase = 0;
    s.resets = 0;
  }
}
