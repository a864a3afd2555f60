import { moveSample, type DropCounts, type SeriesBlock } from '../core/series.js';

/**
 * What the de-duplicator knows of one series. Obtained once per series with
 * {@link SeriesDeduper.series} and kept by the caller, so that a chunk costs no look-ups and no
 * allocations per series (per-chunk maps made a few MB of garbage per million samples, long-lived
 * enough to be promoted).
 */
export interface SeriesDedupeState {
  /** Newest timestamp emitted before the current chunk. */
  newestBeforeChunk: number;
  /** Newest timestamp emitted in the chunk numbered `chunk`. */
  newestInChunk: number;
  chunk: number;
  /** The first block emitted in that chunk. */
  emitted: SeriesBlock | undefined;
  /** Blocks after it: only when several series collide on the same identity. */
  alsoEmitted: SeriesBlock[] | undefined;
  /** Their timestamps, built on the first collision in the chunk. */
  collisions: Set<number> | undefined;
}

/**
 * De-duplicates points on (timestamp, series identity) within a run, across chunk edges.
 *
 * The identity is the encoded series prefix (measurement + sorted tags + field): exactly what
 * InfluxDB keys a point by, so two Prometheus series that map to the same tags after relabelling are
 * one series here too. Chunks arrive in range order, so a point from an earlier chunk is a duplicate
 * iff its timestamp is <= the newest one seen for that series before the current chunk. Within a
 * chunk, a series seen again (another Prometheus series with the same tags) is checked against the
 * exact timestamps already emitted in that chunk. Memory: one small record per series, plus a set
 * for the rare within-chunk collisions.
 */
export class SeriesDeduper {
  private readonly byIdentity = new Map<string, SeriesDedupeState>();
  private chunk = 0;
  /** States touched in the current chunk: `touched[0 .. touchedCount)`. */
  private readonly touched: SeriesDedupeState[] = [];
  private touchedCount = 0;

  /** The state for a series identity, shared by every label set that maps to it. */
  series(identity: string): SeriesDedupeState {
    let state = this.byIdentity.get(identity);
    if (!state) {
      state = {
        newestBeforeChunk: -Infinity,
        newestInChunk: -Infinity,
        chunk: -1,
        emitted: undefined,
        alsoEmitted: undefined,
        collisions: undefined,
      };
      this.byIdentity.set(identity, state);
    }
    return state;
  }

  /**
   * Call when a new chunk starts, or as soon as one ended: what was emitted so far becomes "before
   * the chunk", and the chunk's blocks are no longer referenced (their memory may be reused).
   */
  startChunk(): void {
    for (let i = 0; i < this.touchedCount; i++) {
      const state = this.touched[i]!;
      if (state.newestInChunk > state.newestBeforeChunk) {
        state.newestBeforeChunk = state.newestInChunk;
      }
      state.newestInChunk = -Infinity;
      state.emitted = undefined;
      state.alsoEmitted = undefined;
      state.collisions = undefined;
    }
    this.touchedCount = 0;
    this.chunk++;
  }

  /** Drops duplicates from the block in place; returns the new length. */
  dedupe(state: SeriesDedupeState, block: SeriesBlock, drops: DropCounts): number {
    if (state.chunk !== this.chunk) {
      state.chunk = this.chunk;
      this.touched[this.touchedCount++] = state;
    }
    const before = state.newestBeforeChunk;
    const seen = state.emitted ? timestampsEmitted(state) : undefined;
    const ts = block.columns.timestampsMs;
    const first = block.offset;
    const end = first + block.length;
    let out = first;
    let previous = -Infinity;
    let newest = state.newestInChunk;
    for (let i = first; i < end; i++) {
      const t = ts[i]!;
      if (t <= before || t === previous || seen?.has(t)) {
        drops.duplicate++;
        continue;
      }
      if (out !== i) moveSample(block.columns, i, out);
      seen?.add(t);
      previous = t;
      if (t > newest) newest = t;
      out++;
    }
    block.length = out - first;
    state.newestInChunk = newest;
    if (!state.emitted) state.emitted = block;
    else (state.alsoEmitted ??= []).push(block);
    return block.length;
  }

  /** Number of series identities tracked (for memory accounting and tests). */
  get size(): number {
    return this.byIdentity.size;
  }
}

function timestampsEmitted(state: SeriesDedupeState): Set<number> {
  let set = state.collisions;
  if (!set) {
    set = new Set<number>();
    for (const b of [state.emitted!, ...(state.alsoEmitted ?? [])]) {
      const ts = b.columns.timestampsMs;
      for (let i = b.offset; i < b.offset + b.length; i++) set.add(ts[i]!);
    }
    state.collisions = set;
  }
  return set;
}
