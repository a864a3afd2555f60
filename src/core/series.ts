/**
 * The unit of data between stages: one series' samples from one range-query chunk, columnar.
 *
 * The samples are entries `[offset, offset + length)` of `columns`, which the series of one chunk
 * share: the decoder fills one set of pooled columns per response instead of making typed-array
 * views and objects per series and chunk (which lived just long enough to be promoted, and then
 * made the old generation and the RSS grow with the length of a backfill). Stages compact a
 * block's samples in place, inside its own window.
 *
 * Timestamps are integer milliseconds since the epoch (Prometheus' native resolution).
 * Values are float64 and may be NaN or ±Infinity as Prometheus returned them: cleaning is the
 * transform stage's job. Samples whose value was JSON `null` (some compatible APIs send it) are not
 * stored: the decoder counts them in `nullValues`.
 */
export interface SeriesBlock {
  readonly labels: Labels;
  readonly columns: SampleColumns;
  readonly offset: number;
  length: number;
  nullValues: number;
}

export interface SampleColumns {
  readonly timestampsMs: Float64Array;
  readonly values: Float64Array;
  /**
   * How Prometheus spelled each value, when that spelling is a plain decimal line protocol accepts
   * as it is (`0.5`, `-12`, `1.9633333333333334`): the encoder copies those bytes instead of
   * formatting the double again, which costs ten times more. Optional: columns built elsewhere
   * (tests, the reference decoder) have none.
   */
  readonly valueText?: ValueText;
}

/**
 * Sample `i`'s spelling is `bytes[start[i] .. start[i] + length[i])`, indexed like the value
 * columns; `length[i] === 0` means "format `values[i]`".
 */
export interface ValueText {
  readonly bytes: Uint8Array;
  readonly start: Uint32Array;
  readonly length: Uint8Array;
}

/** A block over columns of its own (tests, the reference decoder, fakes). */
export function seriesBlock(
  labels: Labels,
  timestampsMs: ArrayLike<number>,
  values: ArrayLike<number>,
  nullValues = 0,
): SeriesBlock {
  if (timestampsMs.length !== values.length) {
    throw new RangeError('A series block needs as many timestamps as values.');
  }
  return {
    labels,
    columns: { timestampsMs: Float64Array.from(timestampsMs), values: Float64Array.from(values) },
    offset: 0,
    length: values.length,
    nullValues,
  };
}

/** Copies sample `from` over sample `to` in every column (stages compacting a block in place). */
export function moveSample(columns: SampleColumns, from: number, to: number): void {
  columns.timestampsMs[to] = columns.timestampsMs[from]!;
  columns.values[to] = columns.values[from]!;
  const text = columns.valueText;
  if (text) {
    text.start[to] = text.start[from]!;
    text.length[to] = text.length[from]!;
  }
}

/** A view of the block's timestamps (shares memory with its columns). */
export function blockTimestamps(block: SeriesBlock): Float64Array {
  return block.columns.timestampsMs.subarray(block.offset, block.offset + block.length);
}

/** Index of the first entry of ascending `ts[from, to)` at or after `ms`; `to` when there is none. */
export function firstIndexAtOrAfter(
  ts: Float64Array,
  ms: number,
  from = 0,
  to = ts.length,
): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid]! < ms) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A view of the block's values (shares memory with its columns). */
export function blockValues(block: SeriesBlock): Float64Array {
  return block.columns.values.subarray(block.offset, block.offset + block.length);
}

export type Labels = Readonly<Record<string, string>>;

/** Reasons a sample is dropped between Prometheus and the sink. A bounded set: used as a metric label. */
export const DROP_REASONS = [
  'nan',
  'inf',
  'null',
  'invalid_timestamp',
  'future_timestamp',
  'not_whitelisted',
  'duplicate',
  'label_collision',
] as const;
export type DropReason = (typeof DROP_REASONS)[number];
export type DropCounts = Record<DropReason, number>;

export function emptyDropCounts(): DropCounts {
  return {
    nan: 0,
    inf: 0,
    null: 0,
    invalid_timestamp: 0,
    future_timestamp: 0,
    not_whitelisted: 0,
    duplicate: 0,
    label_collision: 0,
  };
}

export function totalDropped(counts: Readonly<DropCounts>): number {
  let total = 0;
  for (const reason of DROP_REASONS) total += counts[reason];
  return total;
}
