import type { Labels, SampleColumns, SeriesBlock } from '../core/series.js';

/** Blocks a Prometheus client keeps between chunks: ~64 bytes each, 4 MB at most. */
export const RECYCLED_BLOCKS = 65_536;

type MutableBlock = { -readonly [K in keyof SeriesBlock]: SeriesBlock[K] };

/**
 * Reuses the SeriesBlock objects of released responses for the next ones. A chunk's blocks live
 * while the chunk is transformed and written, long enough to be promoted to V8's old generation,
 * and die at its end: a 10M-sample backfill made ~5 MB of such old garbage (one block per series
 * per chunk), which only a mark-compact returns and a busy backfill rarely runs. Recycled, the
 * same few thousand objects serve every chunk.
 */
export class SeriesBlockRecycler {
  private readonly free: MutableBlock[] = [];

  constructor(private readonly maxFree: number) {}

  block(
    labels: Labels,
    columns: SampleColumns,
    offset: number,
    length: number,
    nullValues: number,
  ): SeriesBlock {
    const reused = this.free.pop();
    if (reused === undefined) return { labels, columns, offset, length, nullValues };
    reused.labels = labels;
    reused.columns = columns;
    reused.offset = offset;
    reused.length = length;
    reused.nullValues = nullValues;
    return reused;
  }

  /** Hands blocks back; nothing may read them afterwards. */
  recycle(blocks: readonly SeriesBlock[]): void {
    const take = Math.min(blocks.length, this.maxFree - this.free.length);
    for (let i = 0; i < take; i++) this.free.push(blocks[i]!);
  }
}
