import { moveSample, type DropCounts, type SeriesBlock } from '../core/series.js';

export interface CleanLimits {
  /** Samples stamped after this (now + max_future_skew) are dropped as `future_timestamp`. */
  maxTimestampMs: number;
}

/**
 * Drops, in place (inside the block's window), samples line protocol cannot carry or that cannot
 * be right: NaN, ±Inf, and timestamps that are not finite non-negative integers or lie too far in
 * the future. Compacts the block's samples and returns its new length; counts every dropped sample
 * by reason, including the `null` values the decoder already skipped.
 */
export function dropInvalidSamples(
  block: SeriesBlock,
  limits: CleanLimits,
  drops: DropCounts,
): number {
  const { timestampsMs: ts, values } = block.columns;
  const maxTs = limits.maxTimestampMs;
  drops.null += block.nullValues;
  block.nullValues = 0;
  const first = block.offset;
  const end = first + block.length;
  let out = first;
  for (let i = first; i < end; i++) {
    const v = values[i]!;
    const t = ts[i]!;
    if (v !== v) {
      drops.nan++;
    } else if (v === Infinity || v === -Infinity) {
      drops.inf++;
    } else if (!(t >= 0) || !Number.isSafeInteger(t)) {
      drops.invalid_timestamp++;
    } else if (t > maxTs) {
      drops.future_timestamp++;
    } else {
      if (out !== i) moveSample(block.columns, i, out);
      out++;
    }
  }
  block.length = out - first;
  return block.length;
}
