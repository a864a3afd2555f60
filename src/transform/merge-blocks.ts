import { seriesBlock, type SeriesBlock } from '../core/series.js';

/** Samples `[from, to)` of a block's columns. */
export interface BlockPart {
  block: SeriesBlock;
  from: number;
  to: number;
}

/**
 * One block of every sample of `parts`, in time order: the points several label sets wrote to
 * one InfluxDB series within a chunk, as that series holds them. Of equal timestamps the first
 * part's sample comes first, so a consumer that keeps the first point per timestamp keeps the
 * one the de-duplicator let through (the transform stage leaves none, but a rollup must not
 * depend on it). Copies: the parts may share columns with other series.
 */
export function mergeByTime(parts: readonly BlockPart[]): SeriesBlock {
  const indices: [SeriesBlock, number][] = [];
  for (const { block, from, to } of parts) {
    for (let i = from; i < to; i++) indices.push([block, i]);
  }
  // Array.prototype.sort is stable: ties keep the parts' order.
  indices.sort(([a, i], [b, j]) => a.columns.timestampsMs[i]! - b.columns.timestampsMs[j]!);
  const timestamps = indices.map(([b, i]) => b.columns.timestampsMs[i]!);
  const values = indices.map(([b, i]) => b.columns.values[i]!);
  return seriesBlock(parts[0]?.block.labels ?? {}, timestamps, values);
}
