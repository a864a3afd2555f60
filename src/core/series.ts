/**
 * The unit of data between stages: one series' samples from one range-query chunk, columnar.
 *
 * Arrays may be longer than `length` (buffers are reused); only the first `length` entries are valid.
 * Timestamps are integer milliseconds since the epoch (Prometheus' native resolution).
 * Values are float64 and may be NaN or ±Infinity as Prometheus returned them: cleaning is the
 * transform stage's job. Samples whose value was JSON `null` (some compatible APIs send it) are not
 * stored: the decoder counts them in `nullValues`.
 */
export interface SeriesBlock {
  readonly labels: Labels;
  timestampsMs: Float64Array;
  values: Float64Array;
  length: number;
  nullValues: number;
  /**
   * How Prometheus spelled each value, when that spelling is a plain decimal line protocol accepts
   * as it is (`0.5`, `-12`, `1.9633333333333334`): the encoder copies those bytes instead of
   * formatting the double again, which costs ten times more. Sample `i`'s text is
   * `bytes[start[i] .. start[i] + length[i])`; `length[i] === 0` means "format `values[i]`".
   * Optional: blocks built elsewhere (tests, the reference decoder) have none.
   */
  valueText?: ValueText;
}

export interface ValueText {
  readonly bytes: Uint8Array;
  start: Uint32Array;
  length: Uint8Array;
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
  };
}

export function addDropCounts(into: DropCounts, from: Readonly<DropCounts>): void {
  for (const reason of DROP_REASONS) into[reason] += from[reason];
}

export function totalDropped(counts: Readonly<DropCounts>): number {
  let total = 0;
  for (const reason of DROP_REASONS) total += counts[reason];
  return total;
}
