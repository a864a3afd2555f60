import type { QueryConfig, TierConfig } from '../config/types.js';
import { firstGridPoint, lastGridPoint } from '../core/step-grid.js';
import {
  carryForbidden,
  checkCarry,
  type CarryFallback,
  type CarryPosition,
} from '../pipeline/tier-carry.js';
import type { TierRun } from '../pipeline/tier-runs.js';
import { nextEmission, type HalfOpenRange } from '../pipeline/windows.js';
import type { TierTiming } from './plan-tiers.js';

/** The carries the daemon keeps, as the planner needs them. */
export interface CarryLookup {
  /** The carry kept under a tier state key, or why there is none. */
  get(key: string): CarryPosition | CarryFallback | undefined;
  /** What a carry of the query's tier must have been computed for (carryConfigHash). */
  configHash(query: QueryConfig, tier: TierConfig): string;
}

export interface RollupTierPlan {
  run: TierRun | undefined;
  gap: HalfOpenRange | undefined;
  /** `carried`, or why the tier re-reads its windows this cycle; undefined when it does not run. */
  carry: 'carried' | CarryFallback | undefined;
}

/**
 * A rollup tier's cycle when the daemon carries open windows between cycles. The windows due are
 * nextEmission's either way. With a carry that continues exactly (checkCarry), the tier is fed
 * only the grid points after the carry, up to the last one at or before `now - delay` (what a raw
 * tier extracts), every cycle, due windows or not. Otherwise it re-reads as before, from one step
 * before its first due window, and when carries are allowed feeds on to that same last point so
 * that the next cycle can continue from there.
 */
export function planCarriedRollup(
  query: QueryConfig,
  tier: TierConfig,
  key: string,
  watermarkMs: number | undefined,
  timing: TierTiming,
  carries: CarryLookup,
): RollupTierPlan {
  const stepMs = query.stepMs;
  const endMs = lastGridPoint(timing.nowMs - timing.delayMs, stepMs);
  const feedToMs = endMs + stepMs;
  const emission = nextEmission({
    ...timing,
    stepMs,
    resolutionMs: tier.resolutionMs!,
    watermarkMs,
  });
  const checked = emission?.gap
    ? 'max_catchup'
    : checkCarry({
        kept: carries.get(key),
        configHash: carries.configHash(query, tier),
        watermarkMs,
        latenessMs: timing.latenessMs,
        rewriteWindows: timing.rewriteWindows,
        earliestMs: firstGridPoint(endMs - timing.maxCatchupMs, stepMs),
      });
  if (typeof checked !== 'string') {
    const from = checked.watermarkMs;
    const windows = emission?.windows ?? { fromMs: from, toMs: from };
    const feed = { fromMs: checked.coveredToMs, toMs: feedToMs };
    return {
      run: feed.fromMs < feed.toMs ? { tier, range: { kind: 'rollup', windows, feed } } : undefined,
      gap: undefined,
      carry: 'carried',
    };
  }
  if (!emission) return { run: undefined, gap: undefined, carry: undefined };
  const { windows } = emission;
  const feed = carryForbidden(timing.latenessMs, timing.rewriteWindows)
    ? undefined
    : { fromMs: windows.fromMs - stepMs, toMs: Math.max(feedToMs, windows.toMs) };
  return {
    run: { tier, range: feed ? { kind: 'rollup', windows, feed } : { kind: 'rollup', windows } },
    gap: emission.gap,
    carry: checked,
  };
}
