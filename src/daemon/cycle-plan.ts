import type { PromfluxConfig } from '../config/types.js';
import type { Logger } from '../core/logger.js';
import { toRfc3339 } from '../core/time.js';
import type { DaemonMetrics } from '../observe/metrics.js';
import type { TierBook } from '../observe/tier-book.js';
import { EXPORT_RESOLUTION_MS, EXPORT_TIER } from '../pipeline/continuous-export.js';
import { queryTiers } from '../pipeline/tier-runs.js';
import type { TierKey } from '../pipeline/windows.js';
import { queryFingerprint, type WatermarkStore } from '../state/watermark-store.js';
import type { CarryBook } from './carry-book.js';
import { planQueryTiers, type QueryPlan, type TierPlan, type TierTiming } from './plan-tiers.js';

/** The continuous export's state (see exportStateKey): not a tier of the planner's. */
const isExportState = (key: TierKey): boolean =>
  key.tier === EXPORT_TIER && key.resolutionMs === EXPORT_RESOLUTION_MS;

function timing(config: PromfluxConfig, nowMs: number): TierTiming {
  const p = config.pipeline;
  return {
    nowMs,
    delayMs: p.delayMs,
    latenessMs: p.latenessMs,
    rewriteWindows: p.rewriteWindows,
    initialLookbackMs: p.initialLookbackMs,
    maxCatchupMs: p.maxCatchupMs,
  };
}

/**
 * Plans every query's tiers (planQueryTiers, continuing `carries` when given) and shows them in
 * the tier book, without changing the store: where the daemon stands at start, before its first
 * cycle.
 */
export function describeTiers(
  config: PromfluxConfig,
  store: WatermarkStore,
  nowMs: number,
  book: TierBook,
  carries?: CarryBook,
): QueryPlan[] {
  const legacyTier = config.load.tiers.find((t) => t.resolutionMs === undefined)?.name;
  const saved = store.entries();
  const t = timing(config, nowMs);
  book.retain(config.extract.queries.map((q) => q.name));
  return config.extract.queries.map((query) => {
    const plan = planQueryTiers(
      query,
      queryTiers(query, config.load.tiers),
      legacyTier,
      saved,
      t,
      isExportState,
      carries,
    );
    book.describe(
      query.name,
      plan.tiers.map(({ tier, watermarkMs }) => ({
        view: {
          name: tier.name,
          resolutionMs: tier.resolutionMs,
          stepMs: query.stepMs,
          holdBackMs: t.delayMs + (tier.resolutionMs === undefined ? 0 : t.latenessMs),
        },
        watermarkMs,
      })),
    );
    return plan;
  });
}

/**
 * A cycle's plans, by query name, with their consequences applied: an adopted watermark saved
 * under its tier's key, state no tier uses any more forgotten, tiers starting afresh warned
 * about, gaps beyond max_catchup counted and logged per tier, rollup tiers that re-read instead
 * of continuing a carry counted, and carries no tier uses forgotten.
 */
export function planCycle(
  config: PromfluxConfig,
  store: WatermarkStore,
  nowMs: number,
  ctx: { logger: Logger; metrics: DaemonMetrics; tiers: TierBook; carries?: CarryBook },
): Map<string, QueryPlan> {
  const { logger, metrics } = ctx;
  const plans = new Map<string, QueryPlan>();
  const keys = new Set<string>();
  for (const plan of describeTiers(config, store, nowMs, ctx.tiers, ctx.carries)) {
    const { query } = plan;
    for (const { tier, key, carry } of plan.tiers) {
      keys.add(key);
      if (carry !== undefined && carry !== 'carried') {
        metrics.carryFallbacks.inc({ query: query.name, tier: tier.name, reason: carry });
      }
    }
    if (plan.adopt) {
      const { key, watermarkMs } = plan.adopt;
      store.set(key, { watermarkMs, fingerprint: queryFingerprint(query) });
    }
    for (const key of plan.forget) store.delete(key);
    for (const warning of plan.warnings) logger.warn({ query: query.name }, warning);
    for (const note of plan.notes) logger.info({ query: query.name }, note);
    for (const { tier, gap } of plan.tiers) {
      if (!gap) continue;
      metrics.gaps.inc({ query: query.name, tier: tier.name }, (gap.toMs - gap.fromMs) / 1000);
      logger.error(
        {
          query: query.name,
          tier: tier.name,
          from: toRfc3339(gap.fromMs),
          to: toRfc3339(gap.toMs),
        },
        'Backlog older than max_catchup is skipped: this range is a gap in the tier (run a backfill for it).',
      );
    }
    plans.set(query.name, plan);
  }
  ctx.carries?.retain(keys);
  return plans;
}

/**
 * The last grid point every tier of the query acknowledged (a rollup tier: the last point of its
 * last window); undefined while any tier has no watermark. `watermarkOf` reads a tier's
 * watermark: by default where the plan found it, or where a tier stands after acknowledgements.
 */
export function queryWatermark(
  plan: QueryPlan,
  watermarkOf: (tier: TierPlan) => number | undefined = (tier) => tier.watermarkMs,
): number | undefined {
  let lowest: number | undefined;
  for (const tierPlan of plan.tiers) {
    const watermarkMs = watermarkOf(tierPlan);
    if (watermarkMs === undefined) return undefined;
    const lastPoint =
      tierPlan.tier.resolutionMs === undefined ? watermarkMs : watermarkMs - plan.query.stepMs;
    lowest = lowest === undefined ? lastPoint : Math.min(lowest, lastPoint);
  }
  return lowest;
}
