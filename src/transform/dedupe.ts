import type { DropCounts, SeriesBlock } from '../core/series.js';

/**
 * De-duplicates points on (timestamp, series identity) within a run, across chunk edges.
 *
 * The identity is the encoded series prefix (measurement + sorted tags + field): exactly what
 * InfluxDB keys a point by, so two Prometheus series that map to the same tags after relabelling are
 * one series here too. Chunks arrive in range order, so a point from an earlier chunk is a duplicate
 * iff its timestamp is <= the newest one seen for that series before the current chunk. Within a
 * chunk, a series seen again (another Prometheus series with the same tags) is checked against the
 * exact timestamps already emitted in that chunk. Memory: one number per series, plus a set for the
 * rare within-chunk collisions.
 */
export class SeriesDeduper {
  private readonly newestBeforeChunk = new Map<string, number>();
  private readonly newestInChunk = new Map<string, number>();
  private readonly collisions = new Map<string, Set<number>>();
  private readonly emittedInChunk = new Map<string, SeriesBlock[]>();

  /**
   * Call when a new chunk starts, or as soon as one ended: what was emitted so far becomes "before
   * the chunk", and the chunk's blocks are no longer referenced (their memory may be reused).
   */
  startChunk(): void {
    for (const [key, newest] of this.newestInChunk) {
      const before = this.newestBeforeChunk.get(key);
      if (before === undefined || newest > before) this.newestBeforeChunk.set(key, newest);
    }
    this.newestInChunk.clear();
    this.collisions.clear();
    this.emittedInChunk.clear();
  }

  /** Drops duplicates from the block in place; returns the new length. */
  dedupe(seriesKey: string, block: SeriesBlock, drops: DropCounts): number {
    const before = this.newestBeforeChunk.get(seriesKey) ?? -Infinity;
    const earlierInChunk = this.emittedInChunk.get(seriesKey);
    const seen = earlierInChunk ? this.timestampsEmitted(seriesKey, earlierInChunk) : undefined;
    const { timestampsMs: ts, values } = block;
    const textStart = block.valueText?.start;
    const textLength = block.valueText?.length;
    let out = 0;
    let previous = -Infinity;
    let newest = this.newestInChunk.get(seriesKey) ?? -Infinity;
    for (let i = 0; i < block.length; i++) {
      const t = ts[i]!;
      if (t <= before || t === previous || seen?.has(t)) {
        drops.duplicate++;
        continue;
      }
      if (out !== i) {
        ts[out] = t;
        values[out] = values[i]!;
        if (textStart && textLength) {
          textStart[out] = textStart[i]!;
          textLength[out] = textLength[i]!;
        }
      }
      seen?.add(t);
      previous = t;
      if (t > newest) newest = t;
      out++;
    }
    block.length = out;
    this.newestInChunk.set(seriesKey, newest);
    if (earlierInChunk) earlierInChunk.push(block);
    else this.emittedInChunk.set(seriesKey, [block]);
    return out;
  }

  /** Number of series tracked (for memory accounting and tests). */
  get size(): number {
    return this.newestBeforeChunk.size + this.newestInChunk.size;
  }

  private timestampsEmitted(seriesKey: string, blocks: SeriesBlock[]): Set<number> {
    let set = this.collisions.get(seriesKey);
    if (!set) {
      set = new Set<number>();
      for (const b of blocks) for (let i = 0; i < b.length; i++) set.add(b.timestampsMs[i]!);
      this.collisions.set(seriesKey, set);
    }
    return set;
  }
}
