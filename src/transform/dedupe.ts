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
 * What the de-duplicator knows of one label set (one Prometheus series), kept by the caller like
 * {@link SeriesDedupeState}: with it, a point dropped because another label set with the same
 * identity already wrote that timestamp is counted as `label_collision`, not `duplicate`.
 */
export interface LabelSetDedupeState {
  /** Newest timestamp emitted for this label set. */
  newestEmitted: number;
}

/**
 * De-duplicates points on (timestamp, series identity) within a run, across chunk edges.
 *
 * The identity is the encoded series prefix (measurement + sorted tags + field): exactly what
 * InfluxDB keys a point by, so two Prometheus series that map to the same tags after relabelling are
 * one series here too (the points one drops for the other count as `label_collision`). Chunks
 * arrive in range order, so a point from an earlier chunk is a duplicate iff its timestamp is <=
 * the newest one seen for that series before the current chunk. Within a
 * chunk, a series seen again (another Prometheus series with the same tags) is checked against the
 * exact timestamps already emitted in that chunk. Memory: one small record per series, plus a set
 * for the rare within-chunk collisions.
 *
 * Prometheus returns each series' samples in time order. When a block is not (a hand-made
 * response, a proxy), the rest of it is checked against a set of its timestamps: the first point
 * for a timestamp wins, whatever the order, so what is counted as kept is what lands.
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

  /**
   * Drops duplicates from the block in place; returns the new length. Prometheus sends a label set
   * once per chunk, so a timestamp another block of this chunk emitted is another label set's.
   */
  dedupe(
    state: SeriesDedupeState,
    labelSet: LabelSetDedupeState,
    block: SeriesBlock,
    drops: DropCounts,
  ): number {
    if (state.chunk !== this.chunk) {
      state.chunk = this.chunk;
      this.touched[this.touchedCount++] = state;
    }
    const before = state.newestBeforeChunk;
    const ownBefore = labelSet.newestEmitted;
    const seen = state.emitted ? timestampsEmitted(state) : undefined;
    const ts = block.columns.timestampsMs;
    const first = block.offset;
    const end = first + block.length;
    let out = first;
    let previous = -Infinity;
    let i = first;
    for (; i < end; i++) {
      const t = ts[i]!;
      if (t <= before) {
        if (t <= ownBefore) drops.duplicate++;
        else drops.label_collision++;
        continue;
      }
      if (t <= previous) {
        if (t === previous) {
          drops.duplicate++;
          continue;
        }
        break;
      }
      if (seen?.has(t)) {
        drops.label_collision++;
        continue;
      }
      if (out !== i) moveSample(block.columns, i, out);
      seen?.add(t);
      previous = t;
      out++;
    }
    let blockNewest = previous;
    if (i < end) {
      out = dedupeUnsorted(block, i, out, before, ownBefore, seen, drops);
      for (let k = first; k < out; k++) if (ts[k]! > blockNewest) blockNewest = ts[k]!;
    }
    block.length = out - first;
    if (blockNewest > state.newestInChunk) state.newestInChunk = blockNewest;
    if (blockNewest > labelSet.newestEmitted) labelSet.newestEmitted = blockNewest;
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

/**
 * The rest of a block from `from` on, once a timestamp came out of order: each one is checked
 * against the set of those this block kept. Returns the new end of the kept samples.
 */
function dedupeUnsorted(
  block: SeriesBlock,
  from: number,
  out: number,
  before: number,
  ownBefore: number,
  seen: Set<number> | undefined,
  drops: DropCounts,
): number {
  const ts = block.columns.timestampsMs;
  const kept = new Set<number>();
  for (let k = block.offset; k < out; k++) kept.add(ts[k]!);
  const end = block.offset + block.length;
  for (let i = from; i < end; i++) {
    const t = ts[i]!;
    if (t <= before) {
      if (t <= ownBefore) drops.duplicate++;
      else drops.label_collision++;
    } else if (kept.has(t)) drops.duplicate++;
    else if (seen?.has(t)) drops.label_collision++;
    else {
      if (out !== i) moveSample(block.columns, i, out);
      kept.add(t);
      seen?.add(t);
      out++;
    }
  }
  return out;
}
