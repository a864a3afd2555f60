import type { QueryConfig, TierConfig } from '../config/types.js';
import { firstGridPoint } from '../core/step-grid.js';
import type { TimeRange } from './run-query.js';
import { completeWindows, extractionRange, type HalfOpenRange } from './windows.js';

/** What one tier writes in one query run. */
export type TierRange =
  /** Inclusive grid points this tier writes. */
  | { kind: 'raw'; points: TimeRange }
  /**
   * Whole windows `[fromMs, toMs)` (multiples of R) this tier emits; empty when fromMs = toMs.
   * With `feed` (a daemon cycle's carry, see tier-carry.ts), the tier rolls up exactly the grid
   * points of `feed` and keeps its open windows for the next cycle, whose feed starts where this
   * one ends; without, the points `[fromMs - step, toMs)`.
   */
  | { kind: 'rollup'; windows: HalfOpenRange; feed?: HalfOpenRange };

export interface TierRun {
  tier: TierConfig;
  range: TierRange;
}

/** Whether the run has nothing to write. */
export function isEmptyTierRange(range: TierRange): boolean {
  if (range.kind === 'raw') return range.points.endMs < range.points.startMs;
  // A feed holds every point of the windows due (they end by its end), and closes them.
  if (range.feed) return range.feed.toMs <= range.feed.fromMs;
  return range.windows.toMs <= range.windows.fromMs;
}

/** The inclusive grid range one tier needs extracted (a rollup: from one step before its windows). */
export function tierExtraction(range: TierRange, stepMs: number): TimeRange {
  if (range.kind === 'raw') return range.points;
  if (range.feed) return { startMs: range.feed.fromMs, endMs: range.feed.toMs - stepMs };
  return extractionRange(range.windows, stepMs);
}

/**
 * The one inclusive grid range to extract for all runs: their union (the hull: runs of one query
 * overlap or touch); a rollup run starts one step before its first window. Runs with nothing to
 * write add nothing; undefined when no run has anything.
 */
export function extractionFor(runs: readonly TierRun[], stepMs: number): TimeRange | undefined {
  let union: TimeRange | undefined;
  for (const run of runs) {
    if (isEmptyTierRange(run.range)) continue;
    const r = tierExtraction(run.range, stepMs);
    union = union
      ? { startMs: Math.min(union.startMs, r.startMs), endMs: Math.max(union.endMs, r.endMs) }
      : r;
  }
  return union;
}

/** The tiers a query feeds, in the configuration's order (a query without `tiers`: all of them). */
export function queryTiers(query: QueryConfig, tiers: readonly TierConfig[]): TierConfig[] {
  const named = query.tiers;
  return named === undefined ? [...tiers] : tiers.filter((t) => named.includes(t.name));
}

/**
 * `--once` and `backfill`: every tier the query feeds, over the inclusive range. A raw tier writes
 * the range's grid points; a rollup tier the whole windows whose grid points the range holds
 * (extraction starts one step before the first, so that it is complete). A window the range cuts
 * is not emitted: a run over the neighbouring range emits it whole.
 */
export function tierRunsForRange(
  query: QueryConfig,
  tiers: readonly TierConfig[],
  range: TimeRange,
): TierRun[] {
  const step = query.stepMs;
  return queryTiers(query, tiers).map((tier): TierRun => {
    if (tier.resolutionMs === undefined) return { tier, range: { kind: 'raw', points: range } };
    const coverage = {
      fromMs: firstGridPoint(range.startMs, step) - step,
      toMs: firstGridPoint(range.endMs + 1, step),
    };
    const windows = completeWindows(coverage, coverage.toMs, step, tier.resolutionMs);
    const emptyAt = firstGridPoint(range.startMs, tier.resolutionMs);
    return {
      tier,
      range: { kind: 'rollup', windows: windows ?? { fromMs: emptyAt, toMs: emptyAt } },
    };
  });
}
