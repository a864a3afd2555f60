import { createHash } from 'node:crypto';
import type { QueryConfig, TierConfig, TransformConfig } from '../config/types.js';
import type { RollupSeries } from '../transform/rollup.js';

/**
 * A rollup tier's carry: the daemon keeps each rollup tier's open windows (one RollupSeries per
 * series, never points) from one cycle to the next, so that a steady cycle extracts only the grid
 * points after the last one and feeds them into the carried windows, instead of re-reading each
 * window whole when it becomes due. It is only an optimisation: a window's lines are the same
 * either way (the accumulator adds the same points in the same order), and whenever the carry
 * might not continue exactly where the last cycle stopped, the tier re-reads as before.
 */

/** Why a rollup tier re-reads its windows instead of continuing a carry (a metric label). */
export const CARRY_FALLBACK_REASONS = [
  /** None kept since the process started, or since the tier was added. */
  'no_carry',
  /** The query's last run failed or was cut short: what fed the carry is not all acknowledged. */
  'failed_run',
  /** The configuration was reloaded (or what the tier's output depends on changed). */
  'config_reload',
  /** `pipeline.lateness` > 0: windows wait for late data the carry would have missed. */
  'lateness',
  /** `pipeline.rewrite_windows` > 0: acknowledged windows are recomputed from Prometheus. */
  'rewrite_windows',
  /** The carry ends before what max_catchup lets a cycle extract. */
  'max_catchup',
  /** The carry does not end where the tier's watermark stands. */
  'discontinuous',
] as const;

export type CarryFallback = (typeof CARRY_FALLBACK_REASONS)[number];

/** Where a kept carry stands: what the next cycle must continue from. */
export interface CarryPosition {
  /** carryConfigHash of the query and tier it was computed for. */
  configHash: string;
  /** The tier's watermark when it was kept: its open windows start there or later. */
  watermarkMs: number;
  /** The grid points that fed it end here (exclusive): the next feed starts here. */
  coveredToMs: number;
}

/** A rollup tier's open windows, one per series (by its encoded key), and where they stand. */
export interface CarriedWindows extends Omit<CarryPosition, 'configHash'> {
  series: Map<string, RollupSeries<Uint8Array>>;
}

/** What a rollup tier writer with a feed continues from and hands its state back to. */
export interface TierCarry {
  /** The state to continue; undefined to start afresh (a re-read). */
  readonly from: CarriedWindows | undefined;
  /** Called once the run fed every point of its feed and nothing failed. */
  keep(state: CarriedWindows): void;
}

/** What a rollup tier's output depends on besides the points: a carry is for these only. */
export function carryConfigHash(
  query: QueryConfig,
  tier: TierConfig,
  transform: TransformConfig,
): string {
  return createHash('sha256')
    .update(JSON.stringify([query, tier, transform]))
    .digest('hex');
}

export interface CarryCheck {
  /** The carry kept for the tier, or why there is none. */
  kept: CarryPosition | CarryFallback | undefined;
  configHash: string;
  /** The tier's saved watermark (end of its last acknowledged window). */
  watermarkMs: number | undefined;
  latenessMs: number;
  rewriteWindows: number;
  /** The first grid point max_catchup lets this cycle extract. */
  earliestMs: number;
}

/** Whether the tier may feed no carry at all this cycle: it re-reads, as before carries. */
export function carryForbidden(
  latenessMs: number,
  rewriteWindows: number,
): CarryFallback | undefined {
  if (latenessMs > 0) return 'lateness';
  if (rewriteWindows > 0) return 'rewrite_windows';
  return undefined;
}

/** The carry to continue, or why the tier re-reads this cycle. */
export function checkCarry(check: CarryCheck): CarryPosition | CarryFallback {
  const forbidden = carryForbidden(check.latenessMs, check.rewriteWindows);
  if (forbidden) return forbidden;
  const { kept } = check;
  if (kept === undefined) return 'no_carry';
  if (typeof kept === 'string') return kept;
  if (kept.configHash !== check.configHash) return 'config_reload';
  if (kept.watermarkMs !== check.watermarkMs || kept.coveredToMs < kept.watermarkMs) {
    return 'discontinuous';
  }
  if (kept.coveredToMs < check.earliestMs) return 'max_catchup';
  return kept;
}

/**
 * Drops from `series` those whose state no later point can use: no open window, and a last point
 * too old to be a counter's predecessor of a point at or after `coveredToMs`. A series that comes
 * back starts afresh, as it would in a re-read.
 */
export function pruneCarried(
  series: Map<string, RollupSeries<Uint8Array>>,
  coveredToMs: number,
  stepMs: number,
): void {
  for (const [key, s] of series) {
    if (s.count === 0 && s.prevMs < coveredToMs - stepMs) series.delete(key);
  }
}
